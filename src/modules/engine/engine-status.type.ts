import { Field, Float, Int, ObjectType } from "type-graphql";
import { DateTimeScalar } from "../../graphql/scalars";

@ObjectType("MembershipEngineStatus", { description: "The membership engine, as this server sees it." })
export class MembershipEngineStatus {
  @Field(() => Boolean, { description: "Whether this process holds the engine lease (one process at a time applies changes)." })
  leader!: boolean;

  @Field(() => Int, { description: "Change-feed entries written but not yet applied to segments (the engine's lag)." })
  pendingChanges!: number;

  @Field(() => Int, { description: "Segments still computing their initial membership." })
  buildingSegments!: number;

  @Field(() => Float, {
    description: "Changes applied since the store was made (a count).",
    deprecationReason: "A count with no meaning of its own on every store: read pendingChanges for the engine's lag.",
  })
  checkpoint!: number;

  @Field(() => Float, {
    description: "Changes written since the store was made (a count): checkpoint + pendingChanges.",
    deprecationReason: "A count with no meaning of its own on every store: read pendingChanges for the engine's lag.",
  })
  latestChange!: number;

  @Field(() => DateTimeScalar, { nullable: true, description: "The engine's clock at its last step." })
  clock!: Date | null;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description: "The next instant a clock-dependent condition (age, WITHIN_LAST, MORE_THAN_AGO) can change a membership; the engine wakes then.",
  })
  nextFlipAt!: Date | null;
}
