// The app's types, in one import: the Database type for supabase-js (generated from the database), the
// Passport event kinds (generated from the catalog) and the typed passport-log wrapper. docs/typed-client.md.
export * from "./database.ts";
export * from "./events.ts";
export * from "./passport.ts";
