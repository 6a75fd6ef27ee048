// The "mongodb" jest project: test servers use the MongoDB store (see harness.ts).
process.env.TEST_STORE = "mongodb";
