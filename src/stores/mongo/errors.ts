/** What the MongoDB store reports at startup, without loading mongoose (main.ts imports this). */
export class MongoDeploymentError extends Error {}

/** The URI without credentials (user info, and secret-looking options), for messages and logs. */
export function redactUri(uri: string): string {
  return uri
    .replace(/^(mongodb(?:\+srv)?:\/\/)[^/?#]*@/, "$1***@")
    .replace(/([?&](?:[^=&]*(?:password|secret|token|authMechanismProperties)[^=&]*)=)[^&]*/gi, "$1***");
}
