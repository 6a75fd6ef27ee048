/**
 * The operation context keeps its loaders lazy and forgettable on the copy Apollo Server runs
 * every operation with (`Object.assign` onto an object of the same prototype).
 */
import { createContext } from "../../src/graphql/context";
import type { Services } from "../../src/services";

/** What Apollo Server does to the context value before each operation. */
const apolloCopy = <T extends object>(value: T): T => Object.assign(Object.create(Object.getPrototypeOf(value)), value);

describe("Context", () => {
  // Loaders only capture the store; nothing here reads through them.
  const services = { store: {} } as unknown as Services;

  it("on Apollo's copy, makes loaders on first use, keeps them, and makes new ones after dropLoaders", () => {
    const ctx = apolloCopy(createContext(services, "w1", "r1"));
    const first = ctx.loaders;
    expect(ctx.loaders).toBe(first);
    ctx.dropLoaders();
    const second = ctx.loaders;
    expect(second).not.toBe(first);
    expect(ctx.loaders).toBe(second);
  });

  it("is copied without making loaders: a copy made before any read has none of the original's", () => {
    const original = createContext(services, "w1", "r1");
    const copy = apolloCopy(original);
    expect(Object.getOwnPropertyDescriptor(copy, "loaders")).toBeUndefined();
    expect(copy.loaders).not.toBe(original.loaders);
    expect([copy.workspaceId, copy.requestId]).toEqual(["w1", "r1"]);
  });
});
