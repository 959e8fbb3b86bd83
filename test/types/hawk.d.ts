declare module "hawk";
