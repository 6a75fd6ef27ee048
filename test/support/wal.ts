/**
 * Reads a SQLite WAL file as the format defines it (sqlite.org/fileformat2.html#walformat): a
 * 32-byte header, then frames of a 24-byte header and one page. A frame whose header holds a
 * database size is the last frame of a commit; frames count while their salts match the header's.
 * The header's checkpoint sequence number goes up each time a writer starts the file over after
 * a complete checkpoint.
 */
import { existsSync, readFileSync } from "node:fs";

export function walStats(dbPath: string): { frames: number; commits: number; bytes: number; restarts: number } {
  const path = `${dbPath}-wal`;
  if (!existsSync(path)) return { frames: 0, commits: 0, bytes: 0, restarts: 0 };
  const wal = readFileSync(path);
  if (wal.length < 32) return { frames: 0, commits: 0, bytes: wal.length, restarts: 0 };
  const pageSize = wal.readUInt32BE(8);
  const salts = [wal.readUInt32BE(16), wal.readUInt32BE(20)];
  let frames = 0;
  let commits = 0;
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) {
    if (wal.readUInt32BE(at + 8) !== salts[0] || wal.readUInt32BE(at + 12) !== salts[1]) break;
    frames++;
    if (wal.readUInt32BE(at + 4) !== 0) commits++;
  }
  return { frames, commits, bytes: wal.length, restarts: wal.readUInt32BE(12) };
}
