/**
 * `defineArtifactCommand` and `defineServerCommand` wrap citty's `defineCommand` for every leaf
 * command: they add the global options, reject unknown options before anything runs, and hand
 * the command a logger. Client commands take the queue's URL and credentials; servers do not.
 */
import { defineCommand, type ArgsDef, type CommandDef, type ParsedArgs } from "citty";
import { globalArgs, logArgs, checkRawArgs, loggerFor, type GlobalOptions } from "./options.ts";
import type { Logger } from "../shared/log.ts";

export interface ArtifactCommandContext<A extends ArgsDef> {
  args: ParsedArgs<A> & GlobalOptions;
  rawArgs: string[];
  logger: Logger;
}

export interface ArtifactCommandDef<T extends ArgsDef, G extends ArgsDef> {
  meta: { name: string; description: string };
  args: T;
  run: (context: ArtifactCommandContext<T & G>) => Promise<void> | void;
}

/** Defines a client command: its own options plus the queue's URL, credentials, output and log options. */
export function defineArtifactCommand<const T extends ArgsDef>(def: ArtifactCommandDef<T, typeof globalArgs>): CommandDef<T & typeof globalArgs> {
  return defineWithGlobals(def, globalArgs);
}

/** Defines a server command: its own options plus --quiet and --verbose. */
export function defineServerCommand<const T extends ArgsDef>(def: ArtifactCommandDef<T, typeof logArgs>): CommandDef<T & typeof logArgs> {
  return defineWithGlobals(def, logArgs);
}

function defineWithGlobals<T extends ArgsDef, G extends ArgsDef>(def: ArtifactCommandDef<T, G>, globals: G): CommandDef<T & G> {
  const args = { ...def.args, ...globals } as T & G;
  return defineCommand({
    meta: def.meta,
    args,
    run: async ({ args: parsed, rawArgs }) => {
      checkRawArgs(rawArgs, args);
      const options = parsed as ParsedArgs<T & G> & GlobalOptions;
      await def.run({ args: options, rawArgs, logger: loggerFor(options) });
    },
  });
}
