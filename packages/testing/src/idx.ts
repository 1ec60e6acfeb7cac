/**
 * The bytes of an IDX file of unsigned bytes (LeCun's MNIST format): magic 0x0000 08 NN, the NN dimensions as
 * big-endian uint32, then `data`. `dims` may lie about `data` (hand-made broken files for tests).
 */
export function idxBytes(dims: readonly number[], data: ArrayLike<number> = []): Buffer {
  const b = Buffer.alloc(4 + 4 * dims.length + data.length);
  b.writeUInt32BE(0x0800 + dims.length, 0);
  dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
  b.set(Array.from(data), 4 + 4 * dims.length);
  return b;
}
