import { expect, test } from "bun:test";
import { LineBuffer } from "../../src/queue/line-buffer.ts";

test("line buffer writes once per turn", async () => {
  const writes: string[] = [];
  const buffer = new LineBuffer((text) => writes.push(text));

  buffer.write("one");
  buffer.write("two");
  expect(writes).toEqual([]);

  await new Promise((resolve) => setImmediate(resolve));
  expect(writes).toEqual(["one\ntwo\n"]);
});

test("line buffer flushes at its line limit", () => {
  const writes: string[] = [];
  const buffer = new LineBuffer((text) => writes.push(text), 3);

  for (const line of ["a", "b", "c", "d"]) buffer.write(line);
  expect(writes).toEqual(["a\nb\nc\n"]);

  buffer.flush();
  expect(writes).toEqual(["a\nb\nc\n", "d\n"]);
});

test("line buffer keeps every line under load", async () => {
  let written = "";
  const buffer = new LineBuffer((text) => (written += text), 100);

  for (let index = 0; index < 1050; index++) buffer.write(`line ${index}`);
  await new Promise((resolve) => setImmediate(resolve));

  const lines = written.split("\n").slice(0, -1);
  expect(lines).toHaveLength(1050);
  expect(lines[0]).toBe("line 0");
  expect(lines[1049]).toBe("line 1049");
});
