declare module "taskcluster-client";
