import { Field, ID, InterfaceType, ObjectType } from "type-graphql";

@InterfaceType("Node", { description: "Relay global object identification: every id is opaque and unique across types." })
export abstract class Node {
  @Field(() => ID)
  id!: string;
}

@ObjectType("PageInfo")
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => Boolean)
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true })
  startCursor!: string | null;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

export function pageInfo(cursors: string[], hasNextPage: boolean): PageInfo {
  return {
    hasNextPage,
    // Pagination is forward only (first/after).
    hasPreviousPage: false,
    startCursor: cursors[0] ?? null,
    endCursor: cursors[cursors.length - 1] ?? null,
  };
}
