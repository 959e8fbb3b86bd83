/** The subcommands of `artifact`, loaded on first use so `--version` starts fast. */
import type { CommandDef } from "citty";

type LazyCommand = () => Promise<CommandDef<any>>;

export const subCommands: Record<string, LazyCommand> = {
  upload: () => import("./upload.ts").then((m) => m.default),
  serve: () => import("./serve.ts").then((m) => m.default),
  task: () => import("./task.ts").then((m) => m.default),
  download: () => import("./download.ts").then((m) => m.default),
  verify: () => import("./verify.ts").then((m) => m.default),
  store: () => import("./store.ts").then((m) => m.default),
};
