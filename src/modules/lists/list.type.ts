import { Field, Int, ObjectType, registerEnumType } from "type-graphql";
import { toGlobalId } from "../../common/ids";
import { Node, PageInfo } from "../../graphql/node";
import { DateTimeScalar } from "../../graphql/scalars";
import type { ListRecord } from "../../stores/port";

export enum FieldType {
  TEXT = "TEXT",
  NUMBER = "NUMBER",
  DATE = "DATE",
  DATETIME = "DATETIME",
  BOOLEAN = "BOOLEAN",
}

registerEnumType(FieldType, {
  name: "FieldType",
  valuesConfig: {
    DATE: { description: "A calendar date (YYYY-MM-DD)." },
    DATETIME: { description: "A timestamp (ISO-8601 with time and zone)." },
  },
});

@ObjectType("CustomField", {
  description: "A custom contact property declared on a list; contacts keep its value under attributes.<key>.",
})
export class CustomField {
  @Field(() => String)
  key!: string;

  @Field(() => String, { nullable: true })
  label!: string | null;

  @Field(() => FieldType)
  type!: FieldType;
}

@ObjectType("ContactList", { implements: Node, description: "A list of contacts, with its custom fields and segments." })
export class ContactList extends Node {
  @Field(() => String)
  name!: string;

  @Field(() => DateTimeScalar)
  createdAt!: Date;

  @Field(() => DateTimeScalar)
  updatedAt!: Date;

  @Field(() => [CustomField])
  customFields!: CustomField[];

  @Field(() => Int)
  contactCount!: number;

  @Field(() => String, {
    description:
      'The IANA time zone the list\'s calendar conditions are evaluated in: a person turns a year older at local midnight on their birthday, "today" and relative dates follow its calendar, and months and years count on its wall clock. "UTC" unless set when the list was created; it cannot be changed.',
  })
  timeZone!: string;

  /** The stored list, for field resolvers. */
  record!: ListRecord;
}

export function contactListView(record: ListRecord): ContactList {
  return Object.assign(new ContactList(), {
    id: toGlobalId("ContactList", record.id),
    name: record.name,
    createdAt: new Date(record.createdAt),
    updatedAt: new Date(record.updatedAt),
    customFields: record.customFields.map((field) => ({ key: field.key, label: field.label, type: field.type as FieldType })),
    contactCount: record.contactCount,
    timeZone: record.timeZone,
    record,
  });
}

@ObjectType("ContactListEdge")
export class ContactListEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => ContactList)
  node!: ContactList;
}

@ObjectType("ContactListConnection")
export class ContactListConnection {
  @Field(() => [ContactListEdge])
  edges!: ContactListEdge[];

  @Field(() => [ContactList])
  nodes!: ContactList[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  /** Counted only when asked for. */
  count!: () => Promise<number>;
}
