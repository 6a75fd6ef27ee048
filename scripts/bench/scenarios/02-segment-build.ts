/**
 * 2. Segment build: createSegment (DYNAMIC, a 3-leaf condition tree) over HTTP on a list of
 * 1,000,000 contacts, timed from sending the mutation until the segment reads READY; and
 * segmentPreview's count of the same condition on the same list.
 */
import { toGlobalId } from "../../../src/common/ids";
import type { ConditionInput } from "../data";
import { measured } from "../support/profile";
import { startChildServer } from "../support/server";
import { fmt, median, sleep } from "../support/stats";
import type { Scenario } from "../support/types";

/** Nordic contacts aged 25–40 or on a paid plan: and(country IN, or(age BETWEEN, plan IN)). */
export const BUILD_CONDITION: ConditionInput = {
  and: [
    { field: "country", operator: "IN", value: ["Norway", "Sweden"] },
    { or: [{ field: "age", operator: "BETWEEN", value: [25, 40] }, { field: "attributes.plan", operator: "IN", value: ["pro", "enterprise"] }] },
  ],
};

const PREVIEW = `query($listId: ID!, $condition: ConditionInput!) { segmentPreview(listId: $listId, condition: $condition, sample: 10) { count sample { id email } } }`;
const CREATE = `mutation($input: CreateSegmentInput!) { createSegment(input: $input) { id status memberCount } }`;
const STATUS = `query($id: ID!) { segment(id: $id) { status memberCount } }`;

export const segmentBuild: Scenario = {
  id: 2,
  name: "Segment build and preview",
  async run(ctx) {
    const fixture = await ctx.fixtures.big();
    const server = await startChildServer(ctx, "s2-build", ctx.fixtures.copy(fixture, "s2-build"));
    try {
      const { gql } = server;
      const listId = toGlobalId("ContactList", fixture.listId);
      await gql.request(`query($id: ID!) { contactList(id: $id) { contactCount } }`, { id: listId });

      const previews: number[] = [];
      let previewCount = 0;
      await measured(ctx, "preview x3", async () => {
        for (let i = 0; i < 3; i++) {
          const started = performance.now();
          const { segmentPreview } = await gql.request(PREVIEW, { listId, condition: BUILD_CONDITION });
          previews.push(performance.now() - started);
          previewCount = segmentPreview.count;
        }
      });

      let memberCount = 0;
      let polls = 0;
      const started = performance.now();
      await measured(ctx, "build", async () => {
        const { createSegment } = await gql.request(CREATE, { input: { listId, name: "Nordic 25-40 or paying", type: "DYNAMIC", condition: BUILD_CONDITION } });
        let status = createSegment.status as string;
        memberCount = createSegment.memberCount;
        while (status !== "READY") {
          await sleep(10);
          polls++;
          const { segment } = await gql.request(STATUS, { id: createSegment.id });
          status = segment.status;
          memberCount = segment.memberCount;
        }
      });
      const buildSeconds = (performance.now() - started) / 1000;
      const previewSeconds = median(previews) / 1000;
      return {
        figures: [
          { label: `build to READY (${fmt(fixture.count)} contacts)`, value: buildSeconds, unit: "s", target: { op: "<=", value: 1.5 } },
          { label: "preview count (median of 3)", value: previewSeconds, unit: "s", target: { op: "<=", value: 1 } },
          { label: "members = preview count", value: memberCount === previewCount ? "yes" : `no (${memberCount} vs ${previewCount})`, unit: "", pass: memberCount === previewCount },
        ],
        notes: [
          `condition ${JSON.stringify(BUILD_CONDITION)} selects ${fmt(memberCount)} of ${fmt(fixture.count)} contacts (${((100 * memberCount) / fixture.count).toFixed(1)}%)`,
          `build timed from sending createSegment to the first read of status READY (polled every 10 ms over HTTP, ${polls} polls); ENGINE_BUILD_CHUNK default (100,000)`,
          `previews (count + 10-contact sample): ${previews.map((ms) => `${ms.toFixed(0)} ms`).join(", ")}`,
        ],
      };
    } finally {
      await server.stop();
    }
  },
};
