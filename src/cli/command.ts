/**
 * `defineArtifactCommand` wraps citty's `defineCommand` for every leaf command: it adds the
 * global options, rejects unknown options before anything runs, and hands the command a logger.
 */
import { defineCommand, type ArgsDef, type CommandDef, type ParsedArgs } from "citty";
import { globalArgs, checkRawArgs, loggerFor, type GlobalOptions } from "./options.ts";
import type { Logger } from "../shared/log.ts";

type WithGlobals<T extends ArgsDef> = T & typeof globalArgs;

export interface ArtifactCommandContext<T extends ArgsDef> {
  args: ParsedArgs<WithGlobals<T>> & GlobalOptions;
  rawArgs: string[];
  logger: Logger;
}

export interface ArtifactCommandDef<T extends ArgsDef> {
  meta: { name: string; description: string };
  args: T;
  run: (context: ArtifactCommandContext<T>) => Promise<void> | void;
}

export function defineArtifactCommand<const T extends ArgsDef>(def: ArtifactCommandDef<T>): CommandDef<WithGlobals<T>> {
  const args = { ...def.args, ...globalArgs } as WithGlobals<T>;
  return defineCommand({
    meta: def.meta,
    args,
    run: async ({ args: parsed, rawArgs }) => {
      checkRawArgs(rawArgs, args);
      const options = parsed as ParsedArgs<WithGlobals<T>> & GlobalOptions;
      await def.run({ args: options, rawArgs, logger: loggerFor(options) });
    },
  });
}
