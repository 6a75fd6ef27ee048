/** Runs a script's main function: its result is the exit code; a configuration problem is one clear message. */
import { ConfigError } from "../src/config";

export function runMain(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (error) => {
      console.error(error instanceof ConfigError ? error.message : (error?.message ?? error));
      process.exit(2);
    },
  );
}
