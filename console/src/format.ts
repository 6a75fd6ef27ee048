/** How the console writes numbers, times, people and event reasons. */
import type { MembershipChangeReason } from "./gql/graphql";

const numbers = new Intl.NumberFormat("en");
export const formatCount = (value: number) => numbers.format(value);

const dateTime = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "short" });
const time = new Intl.DateTimeFormat("en", { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
export const formatDateTime = (iso: string) => dateTime.format(new Date(iso));
export const formatTime = (iso: string) => time.format(new Date(iso));

export function personName(contact: { email: string; firstName?: string | null; lastName?: string | null }): string {
  const name = [contact.firstName, contact.lastName].filter(Boolean).join(" ");
  return name || contact.email;
}

const REASONS: Record<MembershipChangeReason, string> = {
  CONTACT_ADDED: "contact added",
  CONTACT_UPDATED: "contact updated",
  CONTACT_DELETED: "contact deleted",
  SEGMENT_UPDATED: "condition changed",
  TIME_PASSED: "time passed",
  MANUAL: "by hand",
};
export const reasonLabel = (reason: MembershipChangeReason) => REASONS[reason];

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${formatCount(count)} ${count === 1 ? one : many}`;
}

/** The start of the last 24 whole hours (the sparkline's window). */
export function dayAgo(): string {
  const now = new Date();
  now.setUTCMinutes(0, 0, 0);
  return new Date(now.getTime() - 23 * 3_600_000).toISOString();
}
