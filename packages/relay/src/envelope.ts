/**
 * The pane envelope (relay.md §3.4): how a message looks when it lands in a
 * target's input. It borrows MIME's shape so that both people and agents can
 * read it, but it is our own strict dialect, not general MIME: one boundary
 * derived from the Message-Id, a leading marker before the headers, exactly
 * one `text/plain; charset=utf-8` part, no multipart `Content-Type` and no
 * transfer encoding. Lines end in `\n` only; the body is carried byte for
 * byte, so `parseEnvelope(renderEnvelope(x))` gives `x` back.
 *
 * Machine metadata (bundle, created_at, …) is deliberately absent: it goes to
 * the relay's log, not to the pane.
 */
import { RelayError } from "./errors.js";

export type Address = { session: string; display?: string };

export interface EnvelopeInput {
  /** A UUID; the boundary is derived from it. */
  messageId: string;
  date: Date;
  from: Address;
  /** Never empty: one envelope is rendered per target. */
  to: readonly Address[];
  cc?: readonly Address[];
  /** Optional; the relay never sets one. */
  subject?: string;
  body: string;
}

export interface ParsedEnvelope {
  messageId: string;
  boundary: string;
  date: Date;
  /** Parsed addresses always carry their display name. */
  from: Required<Address>;
  to: Required<Address>[];
  cc: Required<Address>[];
  subject?: string;
  body: string;
}

/**
 * Why `parseEnvelope` refused a text, one code per rule of §3.4 (plus the
 * few our stricter dialect adds). Sent as `details.reason`; stable.
 */
export const ENVELOPE_REJECTIONS = [
  "missing_leading_marker",
  "closing_leading_marker",
  "malformed_header",
  "empty_header",
  "duplicate_header",
  "unterminated_headers",
  "missing_message_id",
  "invalid_message_id",
  "missing_date",
  "invalid_date",
  "missing_from",
  "missing_to",
  "empty_to",
  "invalid_address",
  "boundary_mismatch",
  "missing_body_marker",
  "missing_close_marker",
  "content_after_close_marker",
  "malformed_part",
  "missing_part_content_type",
  "unsupported_part_type",
  "unsupported_charset",
  "text_part_count",
] as const;

export type EnvelopeRejection = (typeof ENVELOPE_REJECTIONS)[number];

/** Renderer-side refusals (the caller passed something that cannot be enveloped faithfully). */
export type EnvelopeRenderRejection =
  | "invalid_message_id"
  | "invalid_date"
  | "empty_to"
  | "invalid_address"
  | "body_contains_boundary";

export const ENVELOPE_DEFAULTS = Object.freeze({
  boundaryPrefix: "agentmux-",
  textMediaType: "text/plain",
  textContentType: "text/plain; charset=utf-8",
  /** Parts of this type are hints for tools (a file path instead of inline text); readers skip them. */
  pathPointerMediaType: "application/vnd.agentmux.path-pointer+json",
});

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;
/** Header names we accept: RFC 5322 field-name characters, conservatively (letters, digits, hyphens). */
const HEADER_LINE = /^([A-Za-z][A-Za-z0-9-]*):(.*)$/;
/** A session id inside `<session:…>`: the delimiters of the address list cannot appear in it. */
const SESSION_IN_ADDRESS = /^[^\s<>,]+$/;
/** One address at the head of a list: `Display <session:id>` then `,` or the end. */
const ADDRESS_HEAD = /^\s*([^<>]*?)\s*<session:([^\s<>,]+)>\s*(?:,|$)/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what a header must not carry.
const HEADER_UNSAFE = /[\u0000-\u001f\u007f-\u009f]+/g;

export function boundaryFor(messageId: string): string {
  return ENVELOPE_DEFAULTS.boundaryPrefix + messageId.replaceAll("-", "");
}

/** Hyphen positions of a UUID's 8-4-4-4-12 form. */
const UUID_HYPHENS = [8, 13, 18, 23] as const;

/**
 * Whether `id` is a UUID (8-4-4-4-12 hex digits, either case). A loop rather
 * than a regular expression: it is checked for every message rendered, and
 * runs in half the time of the equivalent regex when the process wakes cold.
 */
function isUuid(id: string): boolean {
  if (id.length !== 36) return false;
  let hyphen = 0;
  for (let i = 0; i < 36; i++) {
    const c = id.charCodeAt(i);
    if (i === UUID_HYPHENS[hyphen]) {
      if (c !== 0x2d) return false;
      hyphen += 1;
    } else if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46))) {
      return false;
    }
  }
  return true;
}

/** {@link boundaryFor} of an id `isUuid` accepted, by slicing around its four hyphens (cheaper than replaceAll). */
function uuidBoundary(id: string): string {
  return `${ENVELOPE_DEFAULTS.boundaryPrefix}${id.slice(0, 8)}${id.slice(9, 13)}${id.slice(14, 18)}${id.slice(19, 23)}${id.slice(24)}`;
}

/**
 * The display name as rendered: defaults to the session id; `"` becomes `'`
 * (as the original does), `<`/`>` become parentheses and control characters
 * spaces, so that a configured `name` can never break the address syntax or
 * start a new header line.
 */
export function displayNameOf(address: Address): string {
  if (address.display === undefined) return address.session;
  const raw = address.display
    .replace(HEADER_UNSAFE, " ")
    .replaceAll('"', "'")
    .replaceAll("<", "(")
    .replaceAll(">", ")")
    .replace(/\s+/g, " ")
    .trim();
  return raw === "" ? address.session : raw;
}

function renderAddress(address: Address): string {
  if (!SESSION_IN_ADDRESS.test(address.session)) {
    throw renderError("invalid_address", `session id ${JSON.stringify(address.session)} cannot be put in an address`);
  }
  return `${displayNameOf(address)} <session:${address.session}>`;
}

/** The pane envelope for one target (§3.4 wire skeleton). No trailing newline: the transport decides about Enter. */
export function renderEnvelope(input: EnvelopeInput): string {
  return render(input, renderAddress, (date) => date.toISOString());
}

/** Entries kept by an {@link EnvelopeRenderer} before it starts over (a bundle has a handful of sessions). */
const RENDERER_MAX_ADDRESSES = 256;

/**
 * Renders envelopes exactly as {@link renderEnvelope} does, remembering what
 * repeats from one message to the next: each address as rendered (the same
 * few sessions send and receive every message, and their display names go
 * through five rewriting passes) and the current second's date text (every
 * target of a message, and its record's `createdAt`, share one date). One per
 * relay core, so nothing is shared between relays in a process.
 */
export class EnvelopeRenderer {
  /** session → display (undefined: none) → the rendered address. */
  readonly #addresses = new Map<string, Map<string | undefined, string>>();
  #addressCount = 0;
  /** The second (epoch ms / 1000, floored) that `#secondPrefix` renders. */
  #second = Number.NaN;
  /** `toISOString()` of that second without its `mmmZ`. */
  #secondPrefix = "";
  readonly #address = (address: Address): string => this.#renderAddress(address);
  readonly #iso = (date: Date): string => this.isoDate(date);

  render(input: EnvelopeInput): string {
    return render(input, this.#address, this.#iso);
  }

  /**
   * Exactly `date.toISOString()`. That call costs about a microsecond, and a
   * message needs it twice (its record and its envelope), so the text up to
   * the milliseconds is kept for the current second and only `mmmZ` is written.
   */
  isoDate(date: Date): string {
    const ms = date.getTime();
    if (Number.isNaN(ms)) return date.toISOString(); // throws, as toISOString does
    const second = Math.floor(ms / 1000);
    if (second !== this.#second) {
      const text = date.toISOString();
      this.#second = second;
      this.#secondPrefix = text.slice(0, -4);
      return text;
    }
    const milli = ms - second * 1000;
    return `${this.#secondPrefix}${milli < 10 ? "00" : milli < 100 ? "0" : ""}${milli}Z`;
  }

  #renderAddress(address: Address): string {
    let byDisplay = this.#addresses.get(address.session);
    const known = byDisplay?.get(address.display);
    if (known !== undefined) return known;
    const rendered = renderAddress(address);
    if (this.#addressCount >= RENDERER_MAX_ADDRESSES) {
      this.#addresses.clear();
      this.#addressCount = 0;
      byDisplay = undefined;
    }
    if (byDisplay === undefined) {
      byDisplay = new Map();
      this.#addresses.set(address.session, byDisplay);
    }
    byDisplay.set(address.display, rendered);
    this.#addressCount += 1;
    return rendered;
  }
}

function render(input: EnvelopeInput, address: (address: Address) => string, iso: (date: Date) => string): string {
  if (!isUuid(input.messageId)) {
    throw renderError("invalid_message_id", `message id ${JSON.stringify(input.messageId)} is not a UUID`);
  }
  const year = input.date.getUTCFullYear();
  // RFC 3339 has four-digit years only; toISOString would write an expanded ±YYYYYY year no reader accepts.
  if (Number.isNaN(year) || year < 0 || year > 9999) {
    throw renderError("invalid_date", "the date is invalid or outside years 0000-9999");
  }
  const to = input.to;
  if (to.length === 0) throw renderError("empty_to", "an envelope needs at least one To address");
  const open = `--${uuidBoundary(input.messageId)}`;
  // The boundary comes from a fresh per-target UUID, so a sender cannot know it in advance; a body that
  // still contains it verbatim would be cut short by every reader, so refuse rather than deliver it garbled.
  // Any such line contains the marker, so the line-by-line look is only for a body that does.
  if (input.body.includes(open) && hasBoundaryLine(input.body, open)) {
    throw renderError("body_contains_boundary", `the body contains the boundary line of message ${input.messageId}`);
  }
  const from = address(input.from);
  const toText = to.length === 1 && to[0] !== undefined ? address(to[0]) : to.map(address).join(", ");
  const cc = input.cc;
  const ccLine = cc === undefined || cc.length === 0 ? "" : `\nCc: ${cc.map(address).join(", ")}`;
  const subject = input.subject?.replace(HEADER_UNSAFE, " ").trim();
  const subjectLine = subject === undefined || subject === "" ? "" : `\nSubject: ${subject}`;
  return `${open}\nMessage-Id: ${input.messageId}\nDate: ${iso(input.date)}\nFrom: ${from}\nTo: ${toText}${ccLine}${subjectLine}\n\n${open}\nContent-Type: ${ENVELOPE_DEFAULTS.textContentType}\n\n${input.body}\n${open}--`;
}

/** Whether a line of `body` is exactly `open` or `open--`. */
function hasBoundaryLine(body: string, open: string): boolean {
  const close = `${open}--`;
  return body.split("\n").some((line) => line === open || line === close);
}

export interface PerTargetEnvelope {
  target: Address;
  messageId: string;
  envelope: string;
}

/**
 * One envelope per target (§3.4): each gets its own Message-Id (so its own
 * boundary), `To` is that target alone and `Cc` lists the other targets, so
 * every recipient sees who else got the message.
 */
export function renderPerTarget(input: {
  date: Date;
  from: Address;
  targets: readonly Address[];
  subject?: string;
  body: string;
  newMessageId: () => string;
}): PerTargetEnvelope[] {
  return input.targets.map((target) => {
    const messageId = input.newMessageId();
    const envelope = renderEnvelope({
      messageId,
      date: input.date,
      from: input.from,
      to: [target],
      cc: input.targets.filter((other) => other.session !== target.session),
      subject: input.subject,
      body: input.body,
    });
    return { target, messageId, envelope };
  });
}

/**
 * Parses a pane envelope strictly: every deviation from the skeleton is a
 * `validation_invalid_arguments` with a `details.reason` from
 * {@link ENVELOPE_REJECTIONS}. One trailing newline after the close marker is
 * tolerated (a pane capture usually has one).
 */
export function parseEnvelope(text: string): ParsedEnvelope {
  const lines = text.split("\n");
  if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();

  const leading = lines[0] ?? "";
  if (!leading.startsWith("--") || leading.length <= 2) {
    throw parseError("missing_leading_marker", "the envelope does not start with a --<boundary> marker");
  }
  if (leading.endsWith("--")) {
    throw parseError("closing_leading_marker", "the envelope starts with a closing marker instead of an opening one");
  }
  const boundary = leading.slice(2);

  const { headers, next } = readHeaders(lines, 1, "envelope");
  const messageId = requireHeader(headers, "Message-Id", "missing_message_id");
  if (!isUuid(messageId)) {
    throw parseError("invalid_message_id", `Message-Id ${JSON.stringify(messageId)} is not a UUID`);
  }
  const dateText = requireHeader(headers, "Date", "missing_date");
  const date = new Date(dateText);
  if (!RFC3339.test(dateText) || Number.isNaN(date.getTime())) {
    throw parseError("invalid_date", `Date ${JSON.stringify(dateText)} is not an RFC 3339 timestamp`);
  }
  const fromList = parseAddressList(requireHeader(headers, "From", "missing_from"), "From");
  const from = fromList[0];
  if (from === undefined || fromList.length !== 1) {
    throw parseError("invalid_address", "From must hold exactly one address");
  }
  const to = parseAddressList(requireHeader(headers, "To", "missing_to"), "To");
  const ccText = headers.get("cc");
  const cc = ccText === undefined ? [] : parseAddressList(ccText, "Cc");
  const subject = headers.get("subject");
  if (boundary !== boundaryFor(messageId)) {
    throw parseError("boundary_mismatch", `boundary ${JSON.stringify(boundary)} is not derived from the Message-Id`, {
      expected: boundaryFor(messageId),
    });
  }

  const open = `--${boundary}`;
  const close = `--${boundary}--`;
  if (lines[next] !== open) {
    throw parseError("missing_body_marker", "the headers are not followed by a --<boundary> body marker");
  }
  const closeAt = lines.indexOf(close, next + 1);
  if (closeAt === -1) throw parseError("missing_close_marker", "the envelope has no --<boundary>-- close marker");
  if (closeAt !== lines.length - 1) {
    throw parseError("content_after_close_marker", "text follows the --<boundary>-- close marker");
  }

  const texts: string[] = [];
  let partStart = next + 1;
  for (let i = partStart; i <= closeAt; i++) {
    if (lines[i] !== open && i !== closeAt) continue;
    const body = readPart(lines.slice(partStart, i));
    if (body !== undefined) texts.push(body);
    partStart = i + 1;
  }
  const body = texts[0];
  if (body === undefined || texts.length !== 1) {
    throw parseError("text_part_count", `the envelope has ${texts.length} text/plain parts; exactly one is required`, {
      text_parts: texts.length,
    });
  }

  const parsed: ParsedEnvelope = { messageId, boundary, date, from, to, cc, body };
  if (subject !== undefined) parsed.subject = subject;
  return parsed;
}

/** Reads `Name: value` lines from `start` up to the blank line; returns lower-cased names. */
function readHeaders(
  lines: readonly string[],
  start: number,
  where: "envelope" | "part",
): { headers: Map<string, string>; next: number } {
  const headers = new Map<string, string>();
  for (let i = start; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (line === "") return { headers, next: i + 1 };
    const match = HEADER_LINE.exec(line);
    if (match === null) {
      throw parseError("malformed_header", `malformed ${where} header line ${JSON.stringify(line)}`, { line: i + 1 });
    }
    const name = (match[1] ?? "").toLowerCase();
    const value = (match[2] ?? "").trim();
    if (value === "") {
      if (name === "to") throw parseError("empty_to", "the To header is empty");
      throw parseError("empty_header", `the ${match[1]} header is empty`, { header: match[1] });
    }
    if (headers.has(name)) {
      throw parseError("duplicate_header", `the ${match[1]} header appears more than once`, { header: match[1] });
    }
    headers.set(name, value);
  }
  if (where === "part") throw parseError("malformed_part", "a part's headers are not followed by a blank line");
  throw parseError("unterminated_headers", "the envelope headers are not followed by a blank line");
}

/** The text of a `text/plain` part, or undefined for a part readers skip. */
function readPart(partLines: readonly string[]): string | undefined {
  const { headers, next } = readHeaders(partLines, 0, "part");
  const contentType = headers.get("content-type");
  if (contentType === undefined) throw parseError("missing_part_content_type", "a part has no Content-Type header");
  const [mediaType = "", ...params] = contentType.split(";").map((s) => s.trim().toLowerCase());
  if (mediaType === ENVELOPE_DEFAULTS.pathPointerMediaType) return undefined;
  if (mediaType !== ENVELOPE_DEFAULTS.textMediaType) {
    throw parseError("unsupported_part_type", `unsupported part type ${JSON.stringify(mediaType)}`, {
      content_type: contentType,
    });
  }
  const charset = params.find((p) => p.startsWith("charset="))?.slice("charset=".length);
  if (charset !== undefined && charset.replaceAll('"', "") !== "utf-8") {
    throw parseError("unsupported_charset", `unsupported charset ${JSON.stringify(charset)}`, {
      content_type: contentType,
    });
  }
  // The newline before a boundary line belongs to the boundary, so the text is the lines in between.
  return partLines.slice(next).join("\n");
}

function requireHeader(headers: Map<string, string>, name: string, reason: EnvelopeRejection): string {
  const value = headers.get(name.toLowerCase());
  if (value === undefined) throw parseError(reason, `the envelope has no ${name} header`);
  return value;
}

function parseAddressList(value: string, header: string): Required<Address>[] {
  const out: Required<Address>[] = [];
  let rest = value;
  while (rest.trim() !== "") {
    const match = ADDRESS_HEAD.exec(rest);
    if (match === null) {
      throw parseError("invalid_address", `${header} has an address without <session:…>: ${JSON.stringify(rest)}`, {
        header,
      });
    }
    const session = match[2] ?? "";
    const display = match[1] ?? "";
    out.push({ session, display: display === "" ? session : display });
    rest = rest.slice(match[0].length);
  }
  if (out.length === 0) throw parseError("empty_to", `${header} holds no address`);
  return out;
}

function parseError(reason: EnvelopeRejection, message: string, extra: Record<string, unknown> = {}): RelayError {
  return new RelayError("validation_invalid_arguments", `invalid envelope: ${message}`, { reason, ...extra });
}

function renderError(reason: EnvelopeRenderRejection, message: string): RelayError {
  return new RelayError("validation_invalid_arguments", `cannot render envelope: ${message}`, { reason });
}

// ---------------------------------------------------------------------------------------------------------------
// Terminal safety for deliveries

/**
 * ANSI/VT escape sequences, in 7-bit and 8-bit (C1) form: CSI, OSC / DCS /
 * SOS / PM / APC strings (up to BEL or ST, or the end of the line if
 * unterminated), and the two- or three-byte ESC sequences. Anything left over
 * after these is removed character by character by {@link CONTROL}.
 */
const ESCAPES = new RegExp(
  [
    "(?:\\u001b\\[|\\u009b)[\\u0030-\\u003f]*[\\u0020-\\u002f]*[\\u0040-\\u007e]?", // CSI … final
    "(?:\\u001b[\\]PX^_]|[\\u0090\\u0098\\u009d-\\u009f])[^\\u0007\\u001b\\u009c\\n]*(?:\\u0007|\\u001b\\\\|\\u009c)?", // strings
    "\\u001b[\\u0020-\\u002f]*[\\u0030-\\u007e]?", // ESC [intermediates] final
  ].join("|"),
  "g",
);
const LONE_SURROGATE = /\p{Cs}/gu;
/** C0 except tab and newline, DEL, and C1. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * Makes text safe to type into a terminal-hosted agent: a message must not
 * be able to move the cursor, retitle the window, write the clipboard
 * (OSC 52) or submit early (a bare `\r`). Keeps `\n` and `\t`, turns `\r\n`
 * into `\n`, and caps the result at `maxBytes` of UTF-8 (marker included)
 * without splitting a character, ending it with a visible
 * `\n[… truncated N bytes]` so the reader knows text is missing.
 */
export function sanitizeForTerminal(text: string, maxBytes: number): string {
  const clean = text
    .replaceAll("\r\n", "\n")
    .replace(ESCAPES, "")
    .replace(CONTROL, "")
    // A lone surrogate has no UTF-8 form; replace it now so the output is the same string its bytes decode to.
    .replace(LONE_SURROGATE, "\uFFFD");
  const bytes = Buffer.from(clean, "utf8");
  if (bytes.length <= maxBytes) return clean;
  // The marker's digits depend on how much is cut; sizing it for the whole length makes it an upper bound.
  const reserve = Buffer.byteLength(truncationMarker(bytes.length));
  if (!Number.isInteger(maxBytes) || maxBytes < reserve) {
    throw new RangeError(`maxBytes must be an integer of at least ${reserve} to fit the truncation marker`);
  }
  let cut = maxBytes - reserve;
  // Step back over UTF-8 continuation bytes (10xxxxxx) so the cut falls between characters.
  while (cut > 0 && ((bytes[cut] ?? 0) & 0xc0) === 0x80) cut--;
  return bytes.subarray(0, cut).toString("utf8") + truncationMarker(bytes.length - cut);
}

function truncationMarker(droppedBytes: number): string {
  return `\n[… truncated ${droppedBytes} bytes]`;
}
