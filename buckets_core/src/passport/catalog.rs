//! The Passport event catalog: every kind of event the platform records.

use crate::coliseum::Tier;
use serde::Serialize;

/// The four DNA domains an event can feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Domain {
    /// Cultural: genre diversity, crossover potential, cultural influence.
    A,
    /// Behavioral: fan loyalty, repeat engagement, conversion.
    T,
    /// Economic: revenue per fan, transaction value, monetization efficiency.
    G,
    /// Spatial: geographic reach, touring viability, city distribution.
    C,
}

impl Domain {
    pub const ALL: [Domain; 4] = [Domain::A, Domain::T, Domain::G, Domain::C];

    pub fn letter(self) -> &'static str {
        match self {
            Domain::A => "A",
            Domain::T => "T",
            Domain::G => "G",
            Domain::C => "C",
        }
    }
}

/// Who writes an event into the log. `App` is a signed-in user through
/// `passport-log`; the others are server-side producers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    App,
    Treasury,
    Concierto,
    Companon,
    System,
}

impl Source {
    pub const ALL: [Source; 5] = [Source::App, Source::Treasury, Source::Concierto, Source::Companon, Source::System];

    pub fn name(self) -> &'static str {
        match self {
            Source::App => "app",
            Source::Treasury => "treasury",
            Source::Concierto => "concierto",
            Source::Companon => "companon",
            Source::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|src| src.name() == s)
    }
}

/// The type of a payload field. Each has one exact rule, implemented the same
/// way in `validate.rs` and in the SQL function `passport.check_event`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// A JSON string of 1 to 500 characters.
    Text,
    /// A JSON number with no fractional part, in the i64 range, at least `min`.
    Integer { min: Option<i64> },
    /// Any JSON number, at least `min`.
    Number { min: Option<i64> },
    /// `true` or `false`.
    Boolean,
    /// A UUID string in the canonical 8-4-4-4-12 hex form.
    Uuid,
    /// An RFC 3339 date-time string with an offset.
    Timestamp,
    /// An ISO 4217 code: three capital letters.
    Currency,
    /// An ISO 3166-1 alpha-2 code: two capital letters.
    Country,
}

impl FieldType {
    /// The name stored in `passport.event_kinds.fields`.
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Text => "string",
            FieldType::Integer { .. } => "integer",
            FieldType::Number { .. } => "number",
            FieldType::Boolean => "boolean",
            FieldType::Uuid => "uuid",
            FieldType::Timestamp => "timestamp",
            FieldType::Currency => "currency",
            FieldType::Country => "country",
        }
    }

    pub fn min(self) -> Option<i64> {
        match self {
            FieldType::Integer { min } | FieldType::Number { min } => min,
            _ => None,
        }
    }

    /// What a valid value looks like, as said in rejection messages.
    pub fn expectation(self) -> String {
        match self {
            FieldType::Text => "a string of 1 to 500 characters".into(),
            FieldType::Integer { min: None } => "an integer".into(),
            FieldType::Integer { min: Some(m) } => format!("an integer >= {m}"),
            FieldType::Number { min: None } => "a number".into(),
            FieldType::Number { min: Some(m) } => format!("a number >= {m}"),
            FieldType::Boolean => "true or false".into(),
            FieldType::Uuid => "a UUID".into(),
            FieldType::Timestamp => "an RFC 3339 timestamp".into(),
            FieldType::Currency => "an ISO 4217 currency code (3 capital letters)".into(),
            FieldType::Country => "an ISO 3166-1 alpha-2 country code (2 capital letters)".into(),
        }
    }
}

/// One payload field of an event kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub ty: FieldType,
    pub required: bool,
}

/// A payload field whose value decides whether the event counts for DNA at all
/// (an `audio.play` counts only after 30 seconds of listening).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DnaThreshold {
    pub field: &'static str,
    pub min: i64,
}

/// One kind of Passport event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventKind {
    /// Dotted name, `<family>.<action>`.
    pub name: &'static str,
    pub description: &'static str,
    pub domains: &'static [Domain],
    pub tier: Tier,
    /// The event is about an artist and must name one in `artist_id`.
    pub needs_artist: bool,
    /// Who may log it. Money, tickets and other facts the platform itself
    /// establishes are never accepted from the app.
    pub producers: &'static [Source],
    pub fields: &'static [Field],
    pub dna_threshold: Option<DnaThreshold>,
}

impl EventKind {
    pub fn family(&self) -> &'static str {
        self.name.split_once('.').map_or(self.name, |(family, _)| family)
    }

    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// Finds a kind by its dotted name.
pub fn find_kind(name: &str) -> Option<&'static EventKind> {
    KINDS.iter().find(|k| k.name == name)
}

/// The envelope's artist, as a rename target: a payload key of an alias may
/// stand for it.
pub const ARTIST_ID: &str = "artist_id";

/// A payload key that producers of an alias send, and the field it stands
/// for: [`ARTIST_ID`] (the envelope's artist) or a payload field of the kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rename {
    pub from: &'static str,
    pub to: &'static str,
}

/// Another spelling of a catalog kind, still sent by producers written before
/// the catalog (the existing app). An event sent under an alias is checked and
/// stored as its kind, after its renamed payload keys moved to the fields
/// they stand for; the database counts the events received under each alias.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindAlias {
    pub alias: &'static str,
    pub kind: &'static str,
    pub renames: &'static [Rename],
}

/// Every alias. Remove one only when `passport.alias_use` shows it unused.
pub static ALIASES: &[KindAlias] = &[
    KindAlias {
        alias: "audio_play",
        kind: "audio.play",
        renames: &[
            Rename {
                from: "artistId",
                to: ARTIST_ID,
            },
            Rename {
                from: "trackId",
                to: "track_id",
            },
        ],
    },
    KindAlias {
        alias: "ticket.issued",
        kind: "concierto.ticket_issued",
        renames: &[],
    },
    KindAlias {
        alias: "ticket.validated",
        kind: "concierto.ticket_validated",
        renames: &[],
    },
];

/// Finds an alias by its spelling.
pub fn find_alias(name: &str) -> Option<&'static KindAlias> {
    ALIASES.iter().find(|a| a.alias == name)
}

// Shorthands that keep the table below readable.
use Domain::{A, C, G, T};
use Source::{App, Companon as CompanonSrc, Concierto as ConciertoSrc, System, Treasury as TreasurySrc};
use Tier::{Commitment, Intent, Landmark, Signal, Trace};

const fn req(name: &'static str, ty: FieldType) -> Field {
    Field { name, ty, required: true }
}
const fn opt(name: &'static str, ty: FieldType) -> Field {
    Field { name, ty, required: false }
}
const STR: FieldType = FieldType::Text;
const ID: FieldType = FieldType::Uuid;
const COUNTRY: FieldType = FieldType::Country;
const CURRENCY: FieldType = FieldType::Currency;
const MS: FieldType = FieldType::Integer { min: Some(0) };
const AMOUNT: FieldType = FieldType::Integer { min: Some(0) };
const QUANTITY: FieldType = FieldType::Integer { min: Some(1) };
/// A bigint identity of one of our rows (people.role_requests, people.role_grants).
const ROW_ID: FieldType = FieldType::Integer { min: Some(1) };
const COUNT: FieldType = FieldType::Integer { min: Some(0) };

/// Where a listener or buyer was, for the spatial domain.
const CITY: Field = opt("city", STR);
const COUNTRY_OPT: Field = opt("country", COUNTRY);
const GENRE: Field = opt("genre", STR);

const APP_ONLY: &[Source] = &[App, System];
/// An RSVP: the app logged it before Concierto took RSVPs (concierto.rsvp).
const APP_AND_CONCIERTO: &[Source] = &[App, ConciertoSrc, System];
const TREASURY_ONLY: &[Source] = &[TreasurySrc, System];
const CONCIERTO_ONLY: &[Source] = &[ConciertoSrc, System];
const COMPANON_SERVER: &[Source] = &[CompanonSrc, System];
const SYSTEM_ONLY: &[Source] = &[System];

/// The payload of every offer event: the offer, its campaign and artist; the state it left; the amount
/// and currency; the Treasury payment (paid, refunded); who acted (absent for the platform) and why.
const OFFER: &[Field] = &[
    req("offer_id", ID),
    req("campaign_id", ID),
    req("artist_id", ID),
    opt("from_state", STR),
    opt("amount_minor", AMOUNT),
    opt("currency", CURRENCY),
    opt("payment_id", STR),
    opt("actor_id", ID),
    opt("reason", STR),
];

const fn kind(
    name: &'static str,
    description: &'static str,
    domains: &'static [Domain],
    tier: Tier,
    needs_artist: bool,
    producers: &'static [Source],
    fields: &'static [Field],
) -> EventKind {
    EventKind {
        name,
        description,
        domains,
        tier,
        needs_artist,
        producers,
        fields,
        dna_threshold: None,
    }
}

/// Every event kind, grouped by family. Append new kinds; never rename one
/// that has been logged (the log keeps its name forever).
pub static KINDS: &[EventKind] = &[
    // audio
    EventKind {
        dna_threshold: Some(DnaThreshold {
            field: "duration_ms",
            min: 30_000,
        }),
        ..kind(
            "audio.play",
            "A track was played.",
            &[A, T],
            Signal,
            true,
            APP_ONLY,
            &[
                req("track_id", ID),
                req("duration_ms", MS),
                GENRE,
                CITY,
                COUNTRY_OPT,
                opt("surface", STR),
            ],
        )
    },
    kind(
        "audio.complete",
        "A track was played to its end.",
        &[A, T],
        Signal,
        true,
        APP_ONLY,
        &[req("track_id", ID), GENRE, CITY, COUNTRY_OPT],
    ),
    kind(
        "audio.skip",
        "A track was skipped.",
        &[T],
        Trace,
        true,
        APP_ONLY,
        &[req("track_id", ID), opt("position_ms", MS)],
    ),
    kind(
        "audio.like",
        "A track was liked.",
        &[A, T],
        Signal,
        true,
        APP_ONLY,
        &[req("track_id", ID), GENRE],
    ),
    kind(
        "audio.unlike",
        "A like was taken back.",
        &[T],
        Trace,
        true,
        APP_ONLY,
        &[req("track_id", ID)],
    ),
    kind(
        "audio.share",
        "A track was shared outside the app.",
        &[A],
        Intent,
        true,
        APP_ONLY,
        &[req("track_id", ID), opt("channel", STR), GENRE],
    ),
    kind(
        "audio.playlist_add",
        "A track was added to a playlist.",
        &[A, T],
        Intent,
        true,
        APP_ONLY,
        &[req("track_id", ID), req("playlist_id", ID), GENRE],
    ),
    kind(
        "audio.download",
        "A track was saved for offline listening.",
        &[T],
        Signal,
        true,
        APP_ONLY,
        &[req("track_id", ID)],
    ),
    kind(
        "audio.upload",
        "An artist published a track.",
        &[A],
        Signal,
        true,
        APP_ONLY,
        &[req("track_id", ID), GENRE],
    ),
    // social
    kind(
        "social.follow",
        "A user followed an artist.",
        &[A, T],
        Intent,
        true,
        APP_ONLY,
        &[CITY, COUNTRY_OPT],
    ),
    kind(
        "social.unfollow",
        "A user stopped following an artist.",
        &[T],
        Trace,
        true,
        APP_ONLY,
        &[],
    ),
    kind(
        "social.comment",
        "A comment on an artist's track, post or event.",
        &[A, T],
        Intent,
        true,
        APP_ONLY,
        &[req("comment_id", ID), req("target_id", ID)],
    ),
    kind(
        "social.share",
        "An artist's page or post was shared.",
        &[A],
        Intent,
        true,
        APP_ONLY,
        &[req("target_type", STR), opt("channel", STR)],
    ),
    kind(
        "social.vote_cast",
        "A vote for an artist in a contest.",
        &[A, T],
        Intent,
        true,
        APP_ONLY,
        &[req("contest_id", ID)],
    ),
    kind(
        "social.profile_view",
        "An artist's profile was viewed.",
        &[T],
        Trace,
        true,
        APP_ONLY,
        &[],
    ),
    // concierto
    kind(
        "concierto.ticket_purchased",
        "Tickets were bought for an event (logged once per order).",
        &[T, G, C],
        Commitment,
        true,
        CONCIERTO_ONLY,
        &[
            req("event_id", ID),
            req("tier_id", ID),
            req("quantity", QUANTITY),
            req("amount_minor", AMOUNT),
            req("currency", CURRENCY),
            CITY,
            COUNTRY_OPT,
        ],
    ),
    kind(
        "concierto.ticket_issued",
        "A ticket was issued to its owner.",
        &[T],
        Signal,
        false,
        CONCIERTO_ONLY,
        &[req("event_id", ID), req("ticket_id", ID)],
    ),
    kind(
        "concierto.ticket_validated",
        "A ticket was scanned and admitted at the door.",
        &[T, C],
        Commitment,
        false,
        CONCIERTO_ONLY,
        &[req("event_id", ID), req("ticket_id", ID), opt("gate", STR), CITY, COUNTRY_OPT],
    ),
    kind(
        "concierto.ticket_transferred",
        "A ticket was given to another user.",
        &[T],
        Signal,
        false,
        CONCIERTO_ONLY,
        &[req("event_id", ID), req("ticket_id", ID), req("to_user_id", ID)],
    ),
    kind(
        "concierto.event_attended",
        "A fan attended an artist's event.",
        &[T, C],
        Landmark,
        true,
        CONCIERTO_ONLY,
        &[req("event_id", ID), req("city", STR), req("country", COUNTRY)],
    ),
    kind(
        "concierto.event_rsvp",
        "A fan said they will attend.",
        &[T, C],
        Intent,
        true,
        APP_AND_CONCIERTO,
        &[req("event_id", ID), CITY, COUNTRY_OPT],
    ),
    kind(
        "concierto.event_created",
        "A host created an event as a draft.",
        &[],
        Trace,
        false,
        CONCIERTO_ONLY,
        &[req("event_id", ID), CITY, COUNTRY_OPT],
    ),
    kind(
        "concierto.event_updated",
        "A host changed an event: its details, lineup or tiers.",
        &[],
        Trace,
        false,
        CONCIERTO_ONLY,
        &[req("event_id", ID), req("change", STR)],
    ),
    kind(
        "concierto.event_published",
        "A host put an event on sale.",
        &[],
        Trace,
        false,
        CONCIERTO_ONLY,
        &[req("event_id", ID), CITY, COUNTRY_OPT],
    ),
    kind(
        "concierto.event_cancelled",
        "An event was cancelled: its tickets voided, its payments refunded.",
        &[],
        Trace,
        false,
        CONCIERTO_ONLY,
        &[
            req("event_id", ID),
            opt("reason", STR),
            req("tickets_voided", COUNT),
            req("refunds_requested", COUNT),
        ],
    ),
    kind(
        "concierto.lineup_accepted",
        "An artist accepted their billing and share on an event's lineup.",
        &[],
        Trace,
        true,
        CONCIERTO_ONLY,
        &[req("event_id", ID), req("position", QUANTITY), req("share_bp", COUNT)],
    ),
    kind(
        "concierto.lineup_declined",
        "An artist declined their place on an event's lineup.",
        &[],
        Trace,
        true,
        CONCIERTO_ONLY,
        &[req("event_id", ID), req("position", QUANTITY), req("share_bp", COUNT)],
    ),
    kind(
        "concierto.artist_applied",
        "An artist applied to play an event's open call.",
        &[],
        Trace,
        true,
        CONCIERTO_ONLY,
        &[req("event_id", ID)],
    ),
    // treasury
    kind(
        "treasury.money_spent",
        "A buyer paid for something.",
        &[G],
        Commitment,
        false,
        TREASURY_ONLY,
        &[
            req("payment_id", STR),
            req("amount_minor", AMOUNT),
            req("currency", CURRENCY),
            req("product_type", STR),
        ],
    ),
    kind(
        "treasury.money_earned",
        "A payee's share of a payment.",
        &[G],
        Commitment,
        false,
        TREASURY_ONLY,
        &[
            req("payment_id", STR),
            req("amount_minor", AMOUNT),
            req("currency", CURRENCY),
            req("role", STR),
        ],
    ),
    kind(
        "treasury.refund",
        "Money went back to a buyer.",
        &[G],
        Commitment,
        false,
        TREASURY_ONLY,
        &[req("payment_id", STR), req("amount_minor", AMOUNT), req("currency", CURRENCY)],
    ),
    kind(
        "treasury.payout_requested",
        "A payee asked for a payout.",
        &[],
        Trace,
        false,
        TREASURY_ONLY,
        &[req("payout_id", ID), req("amount_minor", AMOUNT), req("currency", CURRENCY)],
    ),
    kind(
        "treasury.payout_completed",
        "A payout reached the payee's bank.",
        &[],
        Signal,
        false,
        TREASURY_ONLY,
        &[req("payout_id", ID), req("amount_minor", AMOUNT), req("currency", CURRENCY)],
    ),
    kind(
        "treasury.payout_failed",
        "A payout failed.",
        &[],
        Trace,
        false,
        TREASURY_ONLY,
        &[req("payout_id", ID), opt("reason", STR)],
    ),
    // memberships
    kind(
        "membership.started",
        "A fan joined an artist's membership.",
        &[T, G],
        Commitment,
        true,
        TREASURY_ONLY,
        &[
            req("membership_id", ID),
            req("plan", STR),
            req("amount_minor", AMOUNT),
            req("currency", CURRENCY),
        ],
    ),
    kind(
        "membership.renewed",
        "A membership renewed for another period.",
        &[T, G],
        Commitment,
        true,
        TREASURY_ONLY,
        &[req("membership_id", ID), req("amount_minor", AMOUNT), req("currency", CURRENCY)],
    ),
    kind(
        "membership.cancelled",
        "A fan ended a membership.",
        &[T],
        Signal,
        true,
        APP_ONLY,
        &[req("membership_id", ID), opt("reason", STR)],
    ),
    // drops
    kind(
        "drop.viewed",
        "A drop page was viewed.",
        &[A],
        Trace,
        true,
        APP_ONLY,
        &[req("drop_id", ID)],
    ),
    kind(
        "drop.purchased",
        "An item of a drop was bought.",
        &[T, G],
        Commitment,
        true,
        TREASURY_ONLY,
        &[
            req("drop_id", ID),
            req("quantity", QUANTITY),
            req("amount_minor", AMOUNT),
            req("currency", CURRENCY),
        ],
    ),
    // merch
    kind(
        "merch.viewed",
        "A merch product was viewed.",
        &[A],
        Trace,
        true,
        APP_ONLY,
        &[req("product_id", ID)],
    ),
    kind(
        "merch.purchased",
        "Merch was bought; city and country are where it ships.",
        &[G, C],
        Commitment,
        true,
        TREASURY_ONLY,
        &[
            req("product_id", ID),
            req("quantity", QUANTITY),
            req("amount_minor", AMOUNT),
            req("currency", CURRENCY),
            CITY,
            COUNTRY_OPT,
        ],
    ),
    // tips
    kind(
        "tip.sent",
        "A fan tipped an artist.",
        &[T, G],
        Commitment,
        true,
        TREASURY_ONLY,
        &[req("payment_id", STR), req("amount_minor", AMOUNT), req("currency", CURRENCY)],
    ),
    // badges: logged by the platform when it awards a badge (docs/badges.md). No DNA domain: a badge is
    // made of entries that already counted, and must not feed the scores it was earned from.
    kind(
        "badge.earned",
        "A user earned a badge.",
        &[],
        Intent,
        false,
        SYSTEM_ONLY,
        &[req("badge", STR), opt("period", STR)],
    ),
    // companon
    kind(
        "companon.campaign_viewed",
        "A brand campaign was shown to a user.",
        &[A],
        Trace,
        true,
        APP_ONLY,
        &[req("campaign_id", ID)],
    ),
    kind(
        "companon.campaign_clicked",
        "A user opened a brand campaign.",
        &[A, T],
        Signal,
        true,
        APP_ONLY,
        &[req("campaign_id", ID)],
    ),
    kind(
        "companon.campaign_converted",
        "A campaign led to a purchase or sign-up.",
        &[T, G],
        Intent,
        true,
        COMPANON_SERVER,
        &[req("campaign_id", ID), opt("amount_minor", AMOUNT), opt("currency", CURRENCY)],
    ),
    kind(
        "companon.campaign_launched",
        "A brand launched a campaign targeting an artist.",
        &[G],
        Intent,
        true,
        COMPANON_SERVER,
        &[req("campaign_id", ID), req("budget_minor", AMOUNT), req("currency", CURRENCY)],
    ),
    // companon: a campaign's life (docs/companon.md), logged by the platform under the brand's id; no
    // artist, no DNA domain.
    kind(
        "companon.campaign_created",
        "A brand created a campaign (a draft).",
        &[],
        Trace,
        false,
        COMPANON_SERVER,
        &[
            req("campaign_id", ID),
            req("budget_minor", AMOUNT),
            req("currency", CURRENCY),
            opt("actor_id", ID),
        ],
    ),
    kind(
        "companon.campaign_submitted",
        "A brand sent a campaign for review.",
        &[],
        Trace,
        false,
        COMPANON_SERVER,
        &[
            req("campaign_id", ID),
            req("from_state", STR),
            opt("actor_id", ID),
            opt("reason", STR),
        ],
    ),
    kind(
        "companon.campaign_withdrawn",
        "A brand took a campaign back from review (a draft again).",
        &[],
        Trace,
        false,
        COMPANON_SERVER,
        &[
            req("campaign_id", ID),
            req("from_state", STR),
            opt("actor_id", ID),
            opt("reason", STR),
        ],
    ),
    kind(
        "companon.campaign_approved",
        "An admin approved a campaign: it is active.",
        &[],
        Signal,
        false,
        COMPANON_SERVER,
        &[
            req("campaign_id", ID),
            req("from_state", STR),
            opt("actor_id", ID),
            opt("reason", STR),
        ],
    ),
    kind(
        "companon.campaign_rejected",
        "An admin sent a campaign back to draft, saying why.",
        &[],
        Signal,
        false,
        COMPANON_SERVER,
        &[
            req("campaign_id", ID),
            req("from_state", STR),
            opt("actor_id", ID),
            req("reason", STR),
        ],
    ),
    kind(
        "companon.campaign_paused",
        "An active campaign was paused.",
        &[],
        Trace,
        false,
        COMPANON_SERVER,
        &[
            req("campaign_id", ID),
            req("from_state", STR),
            opt("actor_id", ID),
            opt("reason", STR),
        ],
    ),
    kind(
        "companon.campaign_resumed",
        "A paused campaign is active again.",
        &[],
        Trace,
        false,
        COMPANON_SERVER,
        &[
            req("campaign_id", ID),
            req("from_state", STR),
            opt("actor_id", ID),
            opt("reason", STR),
        ],
    ),
    kind(
        "companon.campaign_completed",
        "A campaign ended: by its schedule or by the brand.",
        &[],
        Signal,
        false,
        COMPANON_SERVER,
        &[
            req("campaign_id", ID),
            req("from_state", STR),
            opt("actor_id", ID),
            opt("reason", STR),
        ],
    ),
    kind(
        "companon.campaign_cancelled",
        "A campaign was cancelled before its end.",
        &[],
        Signal,
        false,
        COMPANON_SERVER,
        &[
            req("campaign_id", ID),
            req("from_state", STR),
            opt("actor_id", ID),
            opt("reason", STR),
        ],
    ),
    // companon: an offer's life (docs/companon.md#offers-and-sponsorships), logged by the platform under
    // the brand's id; the artist is in the payload, not the envelope: a brand's offer is no fan activity.
    kind(
        "companon.offer_made",
        "A brand offered an artist a sponsorship.",
        &[],
        Trace,
        false,
        COMPANON_SERVER,
        OFFER,
    ),
    kind(
        "companon.offer_withdrawn",
        "A brand withdrew an offer before the artist answered.",
        &[],
        Trace,
        false,
        COMPANON_SERVER,
        OFFER,
    ),
    kind(
        "companon.offer_accepted",
        "The artist accepted a sponsorship: the campaign's budget is committed.",
        &[],
        Signal,
        false,
        COMPANON_SERVER,
        OFFER,
    ),
    kind(
        "companon.offer_declined",
        "The artist declined a sponsorship.",
        &[],
        Trace,
        false,
        COMPANON_SERVER,
        OFFER,
    ),
    kind(
        "companon.offer_expired",
        "An offer ran out unanswered, or its campaign ended.",
        &[],
        Trace,
        false,
        COMPANON_SERVER,
        OFFER,
    ),
    kind(
        "companon.offer_paid",
        "The brand paid an accepted sponsorship through Checkout.",
        &[],
        Signal,
        false,
        COMPANON_SERVER,
        OFFER,
    ),
    kind(
        "companon.offer_refunded",
        "A paid sponsorship was refunded in full: its budget is released.",
        &[],
        Signal,
        false,
        COMPANON_SERVER,
        OFFER,
    ),
    // profile
    kind(
        "profile.created",
        "A user signed up.",
        &[],
        Trace,
        false,
        APP_ONLY,
        &[opt("role", STR)],
    ),
    kind(
        "profile.updated",
        "A user changed their profile.",
        &[],
        Trace,
        false,
        APP_ONLY,
        &[opt("section", STR)],
    ),
    kind(
        "profile.location_set",
        "A user set their home city.",
        &[C],
        Signal,
        false,
        APP_ONLY,
        &[req("city", STR), req("country", COUNTRY)],
    ),
    kind(
        "profile.genre_preference_set",
        "A user said which genre they like.",
        &[A],
        Signal,
        false,
        APP_ONLY,
        &[req("genre", STR)],
    ),
    kind(
        "profile.artist_claimed",
        "A user claimed an artist profile.",
        &[],
        Signal,
        true,
        SYSTEM_ONLY,
        &[],
    ),
    // system
    kind(
        "system.plan_changed",
        "A user's Coliseum plan changed.",
        &[],
        Trace,
        false,
        SYSTEM_ONLY,
        &[req("plan", STR)],
    ),
    kind(
        "system.session_started",
        "The app was opened.",
        &[T],
        Trace,
        false,
        APP_ONLY,
        &[opt("platform", STR), opt("app_version", STR)],
    ),
    // coliseum: an admin's hold of an artist off the boards, and its release
    // (coliseum.hold_artist / release_artist); the log keeps both.
    kind(
        "coliseum.artist_held",
        "An admin held an artist off the boards (suspicious activity); their payouts of it wait.",
        &[],
        Trace,
        true,
        SYSTEM_ONLY,
        &[req("hold_id", ID), req("reason", STR), opt("activity_since", FieldType::Timestamp)],
    ),
    kind(
        "coliseum.artist_released",
        "An admin released an artist's hold: back on the boards, payouts go out.",
        &[],
        Trace,
        true,
        SYSTEM_ONLY,
        &[req("hold_id", ID), req("reason", STR)],
    ),
    // people: roles asked for, granted and revoked (docs/people.md), logged by the platform under the
    // user's id; no artist, no DNA domain.
    kind(
        "people.role_requested",
        "A user asked for the artist or host role.",
        &[],
        Trace,
        false,
        SYSTEM_ONLY,
        &[req("role", STR), req("request_id", ROW_ID), opt("reason", STR)],
    ),
    kind(
        "people.role_granted",
        "A user was given the artist or host role (an admin's approval or the platform).",
        &[],
        Trace,
        false,
        SYSTEM_ONLY,
        &[
            req("role", STR),
            req("grant_id", ROW_ID),
            opt("request_id", ROW_ID),
            opt("actor_id", ID),
            opt("reason", STR),
        ],
    ),
    kind(
        "people.role_request_declined",
        "An admin declined a user's request for the artist or host role.",
        &[],
        Trace,
        false,
        SYSTEM_ONLY,
        &[req("role", STR), req("request_id", ROW_ID), opt("actor_id", ID), opt("reason", STR)],
    ),
    kind(
        "people.role_revoked",
        "A user's artist or host role was taken back.",
        &[],
        Trace,
        false,
        SYSTEM_ONLY,
        &[req("role", STR), req("grant_id", ROW_ID), opt("actor_id", ID), opt("reason", STR)],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn catalog_has_forty_plus_unique_dotted_kinds() {
        assert!(KINDS.len() >= 40, "only {} kinds", KINDS.len());
        let mut seen = HashSet::new();
        for k in KINDS {
            assert!(seen.insert(k.name), "{} twice", k.name);
            let (family, action) = k.name.split_once('.').expect("dotted name");
            assert!(!family.is_empty() && !action.is_empty() && !action.contains('.'), "{}", k.name);
            assert!(
                k.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_'),
                "{}",
                k.name
            );
            assert!(!k.producers.is_empty(), "{} has no producer", k.name);
        }
    }

    #[test]
    fn fields_are_unique_and_thresholds_name_integer_fields() {
        for k in KINDS {
            let mut names = HashSet::new();
            for f in k.fields {
                assert!(names.insert(f.name), "{}: {} twice", k.name, f.name);
            }
            if let Some(t) = k.dna_threshold {
                let f = k.field(t.field).expect("threshold field declared");
                assert!(matches!(f.ty, FieldType::Integer { .. }) && f.required, "{}", k.name);
            }
        }
    }

    #[test]
    fn money_and_tickets_never_come_from_the_app() {
        for k in KINDS
            .iter()
            .filter(|k| matches!(k.family(), "treasury" | "concierto") && k.name != "concierto.event_rsvp")
        {
            assert!(!k.producers.contains(&Source::App), "{} accepts app", k.name);
        }
    }

    #[test]
    fn aliases_name_kinds_and_rename_into_their_fields() {
        let mut seen = HashSet::new();
        for a in ALIASES {
            assert!(seen.insert(a.alias), "{} twice", a.alias);
            assert!(find_kind(a.alias).is_none(), "{} is a kind", a.alias);
            // The shape passport.event_kind_aliases checks, and safe in a SQL array literal.
            let shape = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-');
            assert!((1..=200).contains(&a.alias.len()) && a.alias.bytes().all(shape), "{}", a.alias);
            let kind = find_kind(a.kind).unwrap_or_else(|| panic!("{} -> unknown {}", a.alias, a.kind));
            let mut froms = HashSet::new();
            let mut tos = HashSet::new();
            for r in a.renames {
                assert!(froms.insert(r.from) && tos.insert(r.to), "{}: {:?} repeats a key", a.alias, r);
                assert!(
                    kind.field(r.from).is_none() && r.from != ARTIST_ID,
                    "{}: {} is already a field",
                    a.alias,
                    r.from
                );
                assert!(
                    r.to == ARTIST_ID || kind.field(r.to).is_some(),
                    "{}: {} is no field of {}",
                    a.alias,
                    r.to,
                    a.kind
                );
            }
            // No chains: a key moved in never moves again, so the order of renames does not matter.
            assert!(froms.is_disjoint(&tos), "{}", a.alias);
        }
    }

    #[test]
    fn every_family_the_platform_needs_is_covered() {
        let families: HashSet<_> = KINDS.iter().map(|k| k.family()).collect();
        for f in [
            "audio",
            "social",
            "concierto",
            "treasury",
            "membership",
            "drop",
            "merch",
            "tip",
            "badge",
            "companon",
            "profile",
        ] {
            assert!(families.contains(f), "no {f} kinds");
        }
    }
}
