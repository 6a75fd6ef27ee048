import { Field, Int, ObjectType } from "type-graphql";
import { toGlobalId } from "../../common/ids";
import { Node, PageInfo } from "../../graphql/node";
import { DateScalar, DateTimeScalar, JSONObjectScalar } from "../../graphql/scalars";
import type { ContactRecord } from "../../stores/port";

@ObjectType("Contact", { implements: Node, description: "A person in a contact list." })
export class Contact extends Node {
  @Field(() => String, { description: "Unique within a list, compared case-insensitively." })
  email!: string;

  @Field(() => String, { nullable: true })
  firstName!: string | null;

  @Field(() => String, { nullable: true })
  lastName!: string | null;

  @Field(() => String, { nullable: true })
  phone!: string | null;

  @Field(() => String, { nullable: true })
  country!: string | null;

  @Field(() => String, { nullable: true })
  city!: string | null;

  @Field(() => String, { nullable: true })
  gender!: string | null;

  @Field(() => DateScalar, { nullable: true })
  birthDate!: string | null;

  @Field(() => [String])
  tags!: string[];

  @Field(() => JSONObjectScalar, { description: "Values of the list's custom fields, by key." })
  attributes!: Record<string, unknown>;

  @Field(() => DateTimeScalar)
  createdAt!: Date;

  @Field(() => DateTimeScalar)
  updatedAt!: Date;

  /** The stored contact, for field resolvers. */
  record!: ContactRecord;
}

export function contactView(record: ContactRecord): Contact {
  return Object.assign(new Contact(), {
    id: toGlobalId("Contact", record.id),
    email: record.email,
    firstName: record.firstName,
    lastName: record.lastName,
    phone: record.phone,
    country: record.country,
    city: record.city,
    gender: record.gender,
    birthDate: record.birthDate,
    tags: record.tags,
    attributes: record.attributes,
    createdAt: new Date(record.createdAt),
    updatedAt: new Date(record.updatedAt),
    record,
  });
}

@ObjectType("ContactEdge")
export class ContactEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => Contact)
  node!: Contact;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description: "In a segment's members: when the contact last entered the segment (for members taken in by the segment's build, when the build took them in). Null elsewhere.",
  })
  joinedAt!: Date | null;
}

@ObjectType("ContactConnection")
export class ContactConnection {
  @Field(() => [ContactEdge])
  edges!: ContactEdge[];

  @Field(() => [Contact])
  nodes!: Contact[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  /** Counted only when asked for. */
  count!: () => Promise<number>;
}

@ObjectType("ContactRowError", { description: "A row that was not kept: of addContacts, or of a CSV import (ImportJob.errors)." })
export class ContactRowError {
  @Field(() => Int, { description: "addContacts: the position of the row in `contacts`. An import: the 1-based data row of the file (the header excluded)." })
  index!: number;

  @Field(() => String, { description: "BAD_USER_INPUT (invalid row) or CONFLICT (email already in the list or repeated in the call)." })
  code!: string;

  @Field(() => String)
  message!: string;
}

@ObjectType("AddContactsResult")
export class AddContactsResult {
  @Field(() => Int)
  added!: number;

  @Field(() => Int)
  updated!: number;

  @Field(() => [ContactRowError])
  errors!: ContactRowError[];
}
