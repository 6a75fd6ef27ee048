import { Field, InputType } from "type-graphql";
import { FieldType } from "./list.type";

@InputType("CustomFieldInput")
export class CustomFieldInput {
  @Field(() => String, { description: "A letter, then letters, digits or underscores (at most 64)." })
  key!: string;

  @Field(() => String, { nullable: true })
  label?: string | null;

  @Field(() => FieldType)
  type!: FieldType;
}

@InputType("CreateContactListInput")
export class CreateContactListInput {
  @Field(() => String)
  name!: string;

  @Field(() => [CustomFieldInput], { nullable: true })
  customFields?: CustomFieldInput[] | null;

  @Field(() => String, {
    nullable: true,
    description:
      'The IANA time zone (e.g. "Europe/Oslo") that calendar conditions of the list\'s segments are evaluated in: ages, relative dates and dates compared with timestamps. Defaults to "UTC". Fixed at creation: it cannot be changed later.',
  })
  timeZone?: string | null;
}

@InputType("UpdateContactListInput")
export class UpdateContactListInput {
  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => [CustomFieldInput], {
    nullable: true,
    description: "Fields to add; existing keys cannot change type.",
  })
  addCustomFields?: CustomFieldInput[] | null;
}
