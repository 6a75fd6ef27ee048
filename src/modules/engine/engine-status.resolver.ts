import { Ctx, Query, Resolver } from "type-graphql";
import type { Context } from "../../graphql/context";
import { MembershipEngineStatus } from "./engine-status.type";

@Resolver(() => MembershipEngineStatus)
export class EngineStatusResolver {
  @Query(() => MembershipEngineStatus, { description: "Lag and state of the membership engine." })
  async membershipEngine(@Ctx() ctx: Context): Promise<MembershipEngineStatus> {
    const lag = await ctx.services.engine.lag();
    return {
      leader: lag.leader,
      pendingChanges: Math.min(lag.pendingChanges, 2 ** 31 - 1),
      buildingSegments: lag.building,
      checkpoint: lag.appliedChanges,
      latestChange: lag.appliedChanges + lag.pendingChanges,
      clock: lag.clock > 0 ? new Date(lag.clock) : null,
      nextFlipAt: lag.nextFlipAt === null ? null : new Date(lag.nextFlipAt),
    };
  }
}
