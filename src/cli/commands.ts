/** The subcommands of `artifact`, loaded on first use so `--version` starts fast. */
import type { CommandDef } from "citty";

type LazyCommand = () => Promise<CommandDef<any>>;

export const subCommands: Record<string, LazyCommand> = {
};
