/**
 * A full garbage collection on demand, without starting node with --expose-gc. A scenario that
 * times process CPU (which counts V8's background GC threads) calls it once after building its
 * fixtures, so that collecting their garbage does not land in its first timed windows.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

setFlagsFromString("--expose-gc");
export const collectGarbage = runInNewContext("gc") as () => void;
