import { Field, InputType } from "type-graphql";
import { DateScalar, JSONObjectScalar } from "../../graphql/scalars";

@InputType("ContactInput")
export class ContactInput {
  @Field(() => String)
  email!: string;

  @Field(() => String, { nullable: true })
  firstName?: string | null;

  @Field(() => String, { nullable: true })
  lastName?: string | null;

  @Field(() => String, { nullable: true })
  phone?: string | null;

  @Field(() => String, { nullable: true })
  country?: string | null;

  @Field(() => String, { nullable: true })
  city?: string | null;

  @Field(() => String, { nullable: true })
  gender?: string | null;

  @Field(() => DateScalar, { nullable: true })
  birthDate?: string | null;

  @Field(() => [String], { nullable: true })
  tags?: string[] | null;

  @Field(() => JSONObjectScalar, { nullable: true, description: "Values of the list's custom fields, by key." })
  attributes?: Record<string, unknown> | null;
}

@InputType("ContactPatchInput", {
  description:
    "Only the fields given change; null clears a field. In attributes, keys given change, a key set to null is cleared and other keys stay; attributes: null clears them all.",
})
export class ContactPatchInput {
  @Field(() => String, { nullable: true })
  email?: string | null;

  @Field(() => String, { nullable: true })
  firstName?: string | null;

  @Field(() => String, { nullable: true })
  lastName?: string | null;

  @Field(() => String, { nullable: true })
  phone?: string | null;

  @Field(() => String, { nullable: true })
  country?: string | null;

  @Field(() => String, { nullable: true })
  city?: string | null;

  @Field(() => String, { nullable: true })
  gender?: string | null;

  @Field(() => DateScalar, { nullable: true })
  birthDate?: string | null;

  @Field(() => [String], { nullable: true })
  tags?: string[] | null;

  @Field(() => JSONObjectScalar, { nullable: true })
  attributes?: Record<string, unknown> | null;
}
