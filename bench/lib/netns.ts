/**
 * A network namespace of our own for the delay scenario. The host's loopback is shared with other
 * programs, so the delay is only ever added inside this namespace, which is deleted afterwards,
 * also on SIGINT and SIGTERM.
 */
import { existsSync } from "node:fs";
import { runChecked } from "./tools.ts";

export const namespaceName = "artifact-bench";

export interface Namespace {
  /** Prefix that runs a command inside the namespace. */
  wrapper: string[];
  /** True when the kernel's netem qdisc delays the namespace's loopback; false when it lacks netem. */
  netem: boolean;
}

export async function withNamespace<T>(delayMs: number, body: (namespace: Namespace) => Promise<T>): Promise<T> {
  if (existsSync(`/run/netns/${namespaceName}`)) await runChecked(["ip", "netns", "delete", namespaceName]);
  await runChecked(["ip", "netns", "add", namespaceName]);

  // bench/run.ts turns SIGINT and SIGTERM into process.exit, which runs this synchronously.
  const onExit = () => Bun.spawnSync(["ip", "netns", "delete", namespaceName]);
  process.once("exit", onExit);

  try {
    const wrapper = ["ip", "netns", "exec", namespaceName];
    await runChecked([...wrapper, "ip", "link", "set", "lo", "up"]);
    const netem = await runChecked([...wrapper, "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", `${delayMs}ms`]).then(
      () => true,
      () => false,
    );
    return await body({ wrapper, netem });
  } finally {
    process.off("exit", onExit);
    await runChecked(["ip", "netns", "delete", namespaceName]);
  }
}
