/** SHA-256 of a byte range of a file, used to check whether the input changed since it was hashed. */

export async function hashFileRange(path: string, start: number, end: number): Promise<{ sha256: string; length: number }> {
  const hasher = new Bun.CryptoHasher("sha256");
  let length = 0;
  for await (const chunk of Bun.file(path).slice(start, end).stream()) {
    hasher.update(chunk);
    length += chunk.length;
  }
  return { sha256: hasher.digest("hex"), length };
}
