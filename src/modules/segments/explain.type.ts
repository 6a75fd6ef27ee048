import { Field, Int, ObjectType, registerEnumType } from "type-graphql";
import { JSONScalar } from "../../graphql/scalars";
import { ConditionOperator } from "./segment.input";
import { MembershipOverride } from "./segment.type";

export enum ConditionNodeKind {
  AND = "AND",
  OR = "OR",
  NOT = "NOT",
  LEAF = "LEAF",
  SEGMENT = "SEGMENT",
}

registerEnumType(ConditionNodeKind, { name: "ConditionNodeKind" });

@ObjectType("ConditionNodeVerdict", {
  description: "One node of a condition tree, as seen for one contact (explainMembership) or over a whole list (segmentPreview.breakdown).",
})
export class ConditionNodeVerdict {
  @Field(() => String, { description: "Where the node sits, in the error-path notation: '' for the root, 'and[1].or[0]', 'not'." })
  path!: string;

  @Field(() => ConditionNodeKind)
  kind!: ConditionNodeKind;

  @Field(() => String, { nullable: true })
  field!: string | null;

  @Field(() => ConditionOperator, { nullable: true })
  operator!: ConditionOperator | null;

  @Field(() => JSONScalar, { nullable: true })
  value!: unknown;

  @Field(() => JSONScalar, { nullable: true, description: "For a LEAF in explainMembership: the contact's own value of the field (age computed now); null when unset." })
  actual!: unknown;

  /** A SEGMENT node's referenced segment (store id), resolved by `segment`. */
  segmentId!: string | null;

  @Field(() => Boolean, { nullable: true, description: "explainMembership: whether this node holds for the contact. In a breakdown: null." })
  matched!: boolean | null;

  @Field(() => Int, { nullable: true, description: "segmentPreview.breakdown: how many contacts of the list this node alone selects. In explainMembership: null." })
  count!: number | null;
}

@ObjectType("MembershipExplanation")
export class MembershipExplanation {
  @Field(() => Boolean, { description: "Whether the contact is a member now." })
  member!: boolean;

  @Field(() => MembershipOverride, { nullable: true, description: "A manual override, when one decides the membership." })
  override!: MembershipOverride | null;

  @Field(() => Boolean, { description: "Whether the condition holds for the contact now (for a STATIC segment, membership may differ from it)." })
  conditionMatched!: boolean;

  @Field(() => [ConditionNodeVerdict], { description: "Every node of the condition tree in pre-order (the root first)." })
  nodes!: ConditionNodeVerdict[];
}
