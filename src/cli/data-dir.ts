/** The data directory of `artifact serve` and `artifact store serve`. */
import { mkdirSync, statSync } from "node:fs";
import { OutputFileError } from "../shared/errors.ts";

/** Creates the data directory when missing; throws an OutputFileError naming it when that is impossible. */
export function prepareDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!statSync(dir).isDirectory()) throw Object.assign(new Error("not a directory"), { code: "ENOTDIR" });
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new OutputFileError(`cannot use --data-dir ${dir} (${reason})`, {
      hint: "give a directory that can be created and written, or remove the file in its place",
      cause: error,
    });
  }
}
