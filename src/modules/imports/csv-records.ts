/**
 * A CSV byte stream read as records, never held whole. The header line is looked at first (empty,
 * binary, not UTF-8, longer than a row may be, which separator), then csv-parse reads the stream,
 * header included, pulling from the source only as fast as records are taken.
 */
import { isUtf8 } from "node:buffer";
import { type Readable, Readable as ReadableStream, pipeline } from "node:stream";
import { CsvError, type Parser, parse } from "csv-parse";
import { parse as parseText } from "csv-parse/sync";
import { detectDelimiter } from "./csv-columns";

/** The longest row (or header) an import reads, in bytes: far above what a valid contact needs, far below a file without line breaks. */
export const MAX_ROW_BYTES = 4 * 1024 * 1024;

/** The stream cannot be read on as CSV; `message` says why, for people. */
export class CsvFailure extends Error {}

/** Why the server itself ended an upload that went quiet (UPLOAD_IDLE_TIMEOUT). */
export class UploadIdle extends Error {}

/** The source itself failed (the connection closed, or went quiet too long) before its end. */
export class UploadInterrupted extends Error {
  constructor(
    readonly bytesRead: number,
    cause: unknown,
  ) {
    const why = cause instanceof UploadIdle ? cause.message : "the connection closed before the end of the file";
    super(`the upload was interrupted after ${bytesRead.toLocaleString("en-US")} bytes: ${why}`, { cause });
  }
}

const MIB = MAX_ROW_BYTES / (1024 * 1024);
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** At most this much of a parser's message reaches a failure (it may quote a field). */
const MAX_MESSAGE = 300;

export class CsvRecords {
  /** Bytes taken from the source so far. */
  bytesRead = 0;
  /** Data rows returned so far. */
  rows = 0;
  private chunks: AsyncIterator<Buffer> | null = null;
  private parser: Parser | null = null;
  private records: RecordReader | null = null;
  private interrupted: unknown = null;
  /** The parser's first record is the header, already read from the first line. */
  private headerToSkip = false;
  /** Where the bytes stopped being UTF-8: the parser's input ended there. */
  private unreadable: CsvFailure | null = null;
  /** The file ended inside a character: its last row is not read. */
  private lastRowCut = false;
  /** A record read ahead, to know whether the one before it is the last. */
  private ahead: string[] | null | undefined = undefined;

  constructor(
    private readonly source: Readable,
    private readonly maxRowBytes = MAX_ROW_BYTES,
  ) {}

  /** The header's cells. Throws CsvFailure when the stream is not a CSV file with a header row, UploadInterrupted when the source fails. */
  async header(): Promise<string[]> {
    // The source is its owner's to end or drain: stopping here leaves it open.
    this.chunks = this.source.iterator({ destroyOnReturn: false }) as AsyncIterator<Buffer>;
    const peeked: Buffer[] = [];
    let size = 0;
    let newline = -1;
    while (newline < 0 && size <= this.maxRowBytes) {
      const step = await this.pull();
      if (step.done) break;
      const at = step.value.indexOf(0x0a);
      if (at >= 0) newline = size + at;
      peeked.push(step.value);
      size += step.value.length;
    }
    const head = Buffer.concat(peeked);
    this.checkHeaderLine(head, newline);
    const line = head.subarray(head.subarray(0, 3).equals(UTF8_BOM) ? 3 : 0, newline < 0 ? head.length : newline).toString("utf8");
    const delimiter = detectDelimiter(line);
    this.parser = parse({
      delimiter,
      bom: true,
      max_record_size: this.maxRowBytes,
      // Ragged rows are rows with an error, not the end of the file.
      relax_column_count: true,
      skip_empty_lines: true,
    });
    pipeline(ReadableStream.from(this.feed(peeked)), this.parser, () => {});
    this.records = new RecordReader(this.parser);
    // Read from the first line, the header is known before more of the file arrives (csv-parse
    // holds a record back until it sees what follows it); a header that does not fit on its line
    // is left to the parser.
    let header = newline < 0 ? null : firstLineHeader(line, delimiter);
    this.headerToSkip = header !== null;
    header ??= await this.read();
    if (header === null) throw new CsvFailure(EMPTY);
    if (header.every((name) => name.trim() === "")) throw new CsvFailure(BLANK);
    return header;
  }

  /** The next data row's cells, or null at the end. Throws CsvFailure when the rest cannot be read, UploadInterrupted when the source fails. */
  async next(): Promise<string[] | null> {
    if (this.headerToSkip) {
      this.headerToSkip = false;
      await this.read();
    }
    const record = await this.read();
    if (record !== null) this.rows++;
    return record;
  }

  /** Stops reading; the source is left to its owner (to drain, or to close). */
  close(): void {
    // The parser's end lets go of the source (feed); before there is one, it is let go here.
    if (this.parser) this.parser.destroy();
    else void this.chunks?.return?.();
  }

  private checkHeaderLine(head: Buffer, newline: number): void {
    if (head.length === 0) throw new CsvFailure(EMPTY);
    if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) throw new CsvFailure("the file is UTF-16 text: save it as CSV UTF-8");
    const line = head.subarray(0, newline < 0 ? Math.min(head.length, this.maxRowBytes) : newline);
    if (line.includes(0)) throw new CsvFailure("the file is not CSV text: it holds binary data");
    try {
      // A line cut at the size limit may end inside a character: `stream` leaves that to later.
      new TextDecoder("utf-8", { fatal: true }).decode(line, { stream: newline < 0 });
    } catch {
      throw new CsvFailure("the file is not UTF-8 text: save it as CSV UTF-8");
    }
    if (newline < 0 && head.length > this.maxRowBytes) {
      throw new CsvFailure(`the first line is longer than ${MIB} MiB, the longest line an import reads: this is not a CSV file with a header row`);
    }
  }

  private async pull(): Promise<IteratorResult<Buffer>> {
    try {
      const step = await this.chunks!.next();
      if (step.done) return step;
      const chunk = typeof step.value === "string" ? Buffer.from(step.value) : step.value;
      this.bytesRead += chunk.length;
      return { done: false, value: chunk };
    } catch (error) {
      this.interrupted = error;
      throw error;
    }
  }

  /**
   * The source's bytes for the parser, checked as UTF-8 on the way (a character may span two
   * chunks). At the first byte that is not, the lines before it go to the parser and the file
   * fails there: its rows are not read as text with replacement characters in it.
   */
  private async *feed(peeked: Buffer[]): AsyncGenerator<Buffer> {
    const utf8 = new TextDecoder("utf-8", { fatal: true });
    let offset = 0;
    const checked = (chunk: Buffer): Buffer => {
      try {
        utf8.decode(chunk, { stream: true });
        offset += chunk.length;
        return chunk;
      } catch {
        const bad = firstNonUtf8(chunk);
        throw new NotUtf8(offset + bad, bad === 0 ? Buffer.alloc(0) : chunk.subarray(0, chunk.lastIndexOf(0x0a, bad - 1) + 1));
      }
    };
    try {
      while (peeked.length > 0) yield checked(peeked.shift()!);
      for (let step = await this.pull(); !step.done; step = await this.pull()) yield checked(step.value);
      try {
        utf8.decode();
      } catch {
        // The file ends inside a character, which the parser has: the last row holds it.
        this.lastRowCut = true;
        throw new NotUtf8(offset, Buffer.alloc(0));
      }
    } catch (error) {
      if (!(error instanceof NotUtf8)) throw error;
      // The parser's input ends there, so that it gives every row before (it holds the last one
      // back until it sees what follows); the failure comes after them.
      if (error.linesBefore.length > 0) yield error.linesBefore;
      this.unreadable = new CsvFailure(`the file is not UTF-8 text from byte ${error.at.toLocaleString("en-US")} on: save it as CSV UTF-8 (the rows before that line are kept)`);
    } finally {
      await this.chunks!.return?.();
    }
  }

  private async read(): Promise<string[] | null> {
    try {
      const record = this.ahead !== undefined ? this.ahead : await this.records!.next();
      this.ahead = undefined;
      if (record === null && this.unreadable) throw this.unreadable;
      // The parser gives the last row once the input has ended, so this is known by then.
      if (record !== null && this.lastRowCut) {
        this.ahead = await this.records!.next();
        if (this.ahead === null) throw this.unreadable!;
      }
      return record;
    } catch (error) {
      if (this.interrupted !== null) throw new UploadInterrupted(this.bytesRead, this.interrupted);
      if (error instanceof CsvError) throw new CsvFailure(this.describe(error));
      throw error;
    }
  }

  private describe(error: CsvError): string {
    const row = this.records === null || this.parser?.info.records === 0 ? "the header row" : `row ${(this.rows + 1).toLocaleString("en-US")}`;
    const line = typeof (error as { lines?: unknown }).lines === "number" ? ` (line ${(error as unknown as { lines: number }).lines.toLocaleString("en-US")})` : "";
    if (error.code === "CSV_MAX_RECORD_SIZE") return `${row}${line} is longer than ${MIB} MiB, the longest row an import reads`;
    if (error.code === "CSV_QUOTE_NOT_CLOSED") return `the file ends inside a quoted field of ${row}${line}: a quote is not closed`;
    const detail = error.message.length > MAX_MESSAGE ? `${error.message.slice(0, MAX_MESSAGE)}…` : error.message;
    return `the file is not valid CSV at ${row}${line}: ${detail}`;
  }
}

/**
 * A parser's records taken one at a time. Unlike the stream's async iterator, which drops what a
 * stream holds once it fails, this returns every record parsed before an error (the rows before a
 * quote left open to the end of the file), then throws the error.
 */
class RecordReader {
  private wake: (() => void) | null = null;
  private failed = false;
  private failure: unknown;
  private ended = false;

  constructor(private readonly parser: Parser) {
    const wake = () => {
      const resolve = this.wake;
      this.wake = null;
      resolve?.();
    };
    parser.on("readable", wake);
    parser.on("error", (error) => {
      this.failed = true;
      this.failure = error;
      wake();
    });
    // A parser stopped by close() ends the records as its end does.
    for (const event of ["end", "close"]) {
      parser.on(event, () => {
        this.ended = true;
        wake();
      });
    }
  }

  async next(): Promise<string[] | null> {
    for (;;) {
      // A destroyed stream still gives what it holds.
      const record = this.parser.read() as string[] | null;
      if (record !== null) return record;
      if (this.failed) throw this.failure;
      if (this.ended) return null;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

/** Bytes that are not UTF-8 at `at` (from the start of the file); `linesBefore`: the whole lines of their chunk before them. */
class NotUtf8 extends Error {
  constructor(
    readonly at: number,
    readonly linesBefore: Buffer,
  ) {
    super("not UTF-8");
  }
}

/** Where the first byte of `chunk` that starts no valid UTF-8 sequence is (0 when it is a sequence begun in the chunk before). */
function firstNonUtf8(chunk: Buffer): number {
  for (let at = 0; at < chunk.length; ) {
    const byte = chunk[at]!;
    const length = byte < 0x80 ? 1 : byte >= 0xc2 && byte < 0xe0 ? 2 : byte >= 0xe0 && byte < 0xf0 ? 3 : byte >= 0xf0 && byte < 0xf5 ? 4 : 0;
    if (length === 0) return at;
    if (at + length > chunk.length) return isUtf8Prefix(chunk.subarray(at)) ? chunk.length : at;
    if (!isUtf8(chunk.subarray(at, at + length))) return at;
    at += length;
  }
  return chunk.length;
}

/** Whether `bytes` could begin a valid UTF-8 sequence that the next chunk completes. */
function isUtf8Prefix(bytes: Buffer): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes, { stream: true });
    return true;
  } catch {
    return false;
  }
}

const EMPTY = "the file is empty: an import starts with a header row naming its columns, such as email,firstName,lastName";
const BLANK = "the file has no header row: its first row is blank (an import starts with a header row naming its columns, such as email,firstName,lastName)";

/** The header's cells when its first line holds the whole of it, null otherwise. */
function firstLineHeader(line: string, delimiter: string): string[] | null {
  try {
    const records = parseText(line.replace(/\r$/, ""), { delimiter, relax_column_count: true }) as string[][];
    return records.length === 1 ? records[0]! : null;
  } catch {
    return null;
  }
}
