import pino from "pino";

export type Logger = pino.Logger;

/**
 * Structured JSON logs. Personal data never belongs at info level; the redaction list is a
 * second line of defence for fields that slip into a log object.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: "segments" },
    redact: {
      paths: ["email", "*.email", "input.email", "variables", "*.variables", "req.headers.authorization", "authorization"],
      censor: "[redacted]",
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
