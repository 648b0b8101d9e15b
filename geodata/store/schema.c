/*
 * geodata/store/schema.c — the store's schema and its forward migrations.
 *
 * PRAGMA user_version holds the schema version. Each migration runs in its own
 * transaction together with the version bump, so a store is always at exactly
 * one version. Migrations are only ever appended: a released one never changes.
 * A store whose version is newer than this program knows is refused.
 *
 * Geometry columns are SpatiaLite's, in EPSG:4326, each with an R*Tree index
 * (idx_<table>_geom) kept up to date by the store's own triggers
 * (spatial_index.c explains why they replace SpatiaLite's). Times are Unix
 * seconds (UTC). Private data — a member's address and home point — lives only
 * in `members` and is never copied into a public table: posts carry a coarse
 * public point instead.
 */
#include <stdio.h>

#include "spatial_index.h"
#include "geodata/streets.h"

static const char *const migrations[] = {
    /* 1: the first schema */
    "CREATE TABLE neighbourhoods ("
    "  id        TEXT PRIMARY KEY,"            /* the source's id, e.g. an INSEE code */
    "  name      TEXT NOT NULL,"
    "  label_lon REAL NOT NULL,"               /* a point inside, for labels */
    "  label_lat REAL NOT NULL,"
    "  area_m2   REAL NOT NULL"
    ");"
    /* Contiguity is symmetric and stored both ways, so "neighbours of X" is one
     * index range. gap_m is the shortest distance between the two, 0 when they touch. */
    "CREATE TABLE neighbourhood_contiguity ("
    "  a     TEXT NOT NULL REFERENCES neighbourhoods(id) ON DELETE CASCADE,"
    "  b     TEXT NOT NULL REFERENCES neighbourhoods(id) ON DELETE CASCADE,"
    "  gap_m REAL NOT NULL,"
    "  PRIMARY KEY (a, b)"
    ") WITHOUT ROWID;"
    "CREATE TABLE addresses ("
    "  id        INTEGER PRIMARY KEY,"
    "  source_id TEXT NOT NULL UNIQUE,"        /* BAN/BANO id */
    "  number    INTEGER NOT NULL,"
    "  rep       TEXT NOT NULL DEFAULT '',"    /* '' or b/t/q (bis/ter/quater) or a letter */
    "  street    TEXT NOT NULL,"
    "  postcode  TEXT NOT NULL,"
    "  insee     TEXT NOT NULL,"
    "  city      TEXT NOT NULL,"
    "  neighbourhood_id TEXT REFERENCES neighbourhoods(id) ON DELETE SET NULL"
    ");"
    "CREATE INDEX addresses_neighbourhood ON addresses(neighbourhood_id);"
    "CREATE TABLE members ("
    "  id            INTEGER PRIMARY KEY,"
    "  email         TEXT NOT NULL UNIQUE COLLATE NOCASE,"
    "  password_hash TEXT NOT NULL,"           /* argon2id, libsodium's string form */
    "  display_name  TEXT NOT NULL,"
    "  role          TEXT NOT NULL DEFAULT 'member'"
    "                CHECK (role IN ('member', 'shop', 'staff', 'admin')),"
    "  address_id    INTEGER REFERENCES addresses(id) ON DELETE SET NULL,"
    "  address_text  TEXT,"                    /* private: the matched address */
    "  home_lon      REAL,"                    /* private: never leaves the server */
    "  home_lat      REAL,"
    "  neighbourhood_id TEXT REFERENCES neighbourhoods(id) ON DELETE SET NULL,"
    "  created_at    INTEGER NOT NULL DEFAULT (unixepoch())"
    ");"
    "CREATE INDEX members_neighbourhood ON members(neighbourhood_id);"
    "CREATE TABLE sessions ("
    "  token_hash BLOB PRIMARY KEY,"           /* the cookie token is never stored */
    "  member_id  INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,"
    "  csrf       TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL DEFAULT (unixepoch()),"
    "  expires_at INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE INDEX sessions_member ON sessions(member_id);"
    "CREATE TABLE posts ("
    "  id         INTEGER PRIMARY KEY,"
    "  author_id  INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,"
    "  kind       TEXT NOT NULL CHECK (kind IN ('request', 'offer')),"
    "  category   TEXT NOT NULL CHECK (category IN ('groceries', 'pharmacy', 'childcare',"
    "             'schooling', 'masks', 'errands', 'company', 'pets', 'materials', 'other')),"
    "  title      TEXT NOT NULL,"
    "  body       TEXT NOT NULL DEFAULT '',"
    "  status     TEXT NOT NULL DEFAULT 'open'"
    "             CHECK (status IN ('open', 'claimed', 'done', 'cancelled')),"
    "  hidden     INTEGER NOT NULL DEFAULT 0,"  /* set by staff moderation */
    "  neighbourhood_id TEXT REFERENCES neighbourhoods(id) ON DELETE SET NULL,"
    "  claimed_by INTEGER REFERENCES members(id) ON DELETE SET NULL,"
    "  views      INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL DEFAULT (unixepoch()),"
    "  updated_at INTEGER NOT NULL DEFAULT (unixepoch()),"
    "  expires_at INTEGER NOT NULL,"
    "  claimed_at INTEGER"
    ");"
    "CREATE INDEX posts_neighbourhood ON posts(neighbourhood_id, status);"
    "CREATE INDEX posts_author ON posts(author_id);"
    "CREATE TABLE post_views ("
    "  post_id   INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,"
    "  member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,"
    "  PRIMARY KEY (post_id, member_id)"
    ") WITHOUT ROWID;"
    "CREATE TABLE post_reports ("
    "  id          INTEGER PRIMARY KEY,"
    "  post_id     INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,"
    "  reporter_id INTEGER REFERENCES members(id) ON DELETE SET NULL,"
    "  reason      TEXT NOT NULL DEFAULT '',"
    "  created_at  INTEGER NOT NULL DEFAULT (unixepoch())"
    ");"
    "CREATE INDEX post_reports_post ON post_reports(post_id);"
    "CREATE TABLE makers ("
    "  member_id        INTEGER PRIMARY KEY REFERENCES members(id) ON DELETE CASCADE,"
    "  capacity_per_day INTEGER NOT NULL DEFAULT 0 CHECK (capacity_per_day >= 0),"
    "  stock            INTEGER NOT NULL DEFAULT 0 CHECK (stock >= 0),"
    "  materials        TEXT NOT NULL DEFAULT '[]',"  /* JSON array of strings */
    "  updated_at       INTEGER NOT NULL DEFAULT (unixepoch())"
    ");"
    "CREATE TABLE maker_orders ("
    "  id           INTEGER PRIMARY KEY,"
    "  maker_id     INTEGER NOT NULL REFERENCES makers(member_id) ON DELETE CASCADE,"
    "  requester_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,"
    "  quantity     INTEGER NOT NULL CHECK (quantity > 0),"
    "  note         TEXT NOT NULL DEFAULT '',"
    "  status       TEXT NOT NULL DEFAULT 'pending'"
    "               CHECK (status IN ('pending', 'accepted', 'ready', 'delivered', 'declined')),"
    "  created_at   INTEGER NOT NULL DEFAULT (unixepoch()),"
    "  updated_at   INTEGER NOT NULL DEFAULT (unixepoch())"
    ");"
    "CREATE INDEX maker_orders_maker ON maker_orders(maker_id, status);"
    "CREATE INDEX maker_orders_requester ON maker_orders(requester_id);"
    "CREATE TABLE shops ("
    "  id            INTEGER PRIMARY KEY,"
    "  source_id     TEXT UNIQUE,"             /* e.g. OSM 'node/123'; NULL if created here */
    "  name          TEXT,"
    "  shop          TEXT,"                    /* OSM shop=* value */
    "  brand         TEXT,"
    "  opening_hours TEXT,"                    /* OSM opening_hours syntax */
    "  addr_housenumber TEXT, addr_street TEXT, addr_postcode TEXT, addr_city TEXT,"
    "  status        TEXT NOT NULL DEFAULT 'unknown' CHECK (status IN"
    "                ('unknown', 'open', 'closed', 'delivery_only', 'takeaway_only')),"
    "  delivers      INTEGER NOT NULL DEFAULT 0,"
    "  takeaway      INTEGER NOT NULL DEFAULT 0,"
    "  gift_cards    INTEGER NOT NULL DEFAULT 0,"
    "  confirmed_at  INTEGER,"                 /* when the owner last confirmed the status */
    "  owner_id      INTEGER REFERENCES members(id) ON DELETE SET NULL,"
    "  neighbourhood_id TEXT REFERENCES neighbourhoods(id) ON DELETE SET NULL,"
    "  updated_at    INTEGER NOT NULL DEFAULT (unixepoch())"
    ");"
    "CREATE INDEX shops_neighbourhood ON shops(neighbourhood_id);"
    "CREATE TABLE audit_log ("
    "  id       INTEGER PRIMARY KEY,"
    "  at       INTEGER NOT NULL DEFAULT (unixepoch()),"
    "  actor_id INTEGER REFERENCES members(id) ON DELETE SET NULL," /* NULL: command line */
    "  action   TEXT NOT NULL,"
    "  target   TEXT,"
    "  detail   TEXT"
    ");",

    /* 2: keyword search over posts, case- and accent-insensitive (FTS5's
     * unicode61 tokenizer folds case and removes diacritics), kept in step
     * with posts by triggers; and sessions by expiry, for purging. */
    "CREATE VIRTUAL TABLE posts_fts USING fts5(title, body, content='posts', content_rowid='id',"
    "  tokenize='unicode61 remove_diacritics 2');"
    "CREATE TRIGGER posts_fts_ai AFTER INSERT ON posts BEGIN"
    "  INSERT INTO posts_fts(rowid, title, body) VALUES (NEW.id, NEW.title, NEW.body); END;"
    "CREATE TRIGGER posts_fts_ad AFTER DELETE ON posts BEGIN"
    "  INSERT INTO posts_fts(posts_fts, rowid, title, body) VALUES ('delete', OLD.id, OLD.title, OLD.body);"
    "  END;"
    "CREATE TRIGGER posts_fts_au AFTER UPDATE OF title, body ON posts BEGIN"
    "  INSERT INTO posts_fts(posts_fts, rowid, title, body) VALUES ('delete', OLD.id, OLD.title, OLD.body);"
    "  INSERT INTO posts_fts(rowid, title, body) VALUES (NEW.id, NEW.title, NEW.body); END;"
    "CREATE INDEX sessions_expiry ON sessions(expires_at);",

    /* 3: a maker's materials are published as a request post, kept in step. */
    "ALTER TABLE makers ADD COLUMN materials_post_id INTEGER REFERENCES posts(id) ON DELETE SET NULL;",

    /* 4: one report per member and post. */
    "DELETE FROM post_reports WHERE reporter_id IS NOT NULL AND id NOT IN "
    "  (SELECT min(id) FROM post_reports WHERE reporter_id IS NOT NULL GROUP BY post_id, reporter_id);"
    "CREATE UNIQUE INDEX post_reports_once ON post_reports(post_id, reporter_id);",

    /* 5: the change feed (changes.c): every change of what the map shows of
     * a post, shop or maker, with the public point before and after, written
     * by triggers so that no writer — this program, another process, a
     * future tool — can forget it. The view counter and bare timestamps do
     * not fire it. It keeps itself to the last 100,000 changes. */
    "CREATE TABLE changes ("
    "  seq      INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  layer    TEXT NOT NULL,"            /* needs, shops, makers (6: neighbourhoods) */
    "  ref_id   INTEGER NOT NULL,"
    "  old_geom BLOB,"                     /* public point before; NULL on insert */
    "  new_geom BLOB"                      /* public point after; NULL on delete */
    ");"
    "CREATE TRIGGER changes_prune AFTER INSERT ON changes WHEN NEW.seq % 1000 = 0 BEGIN"
    "  DELETE FROM changes WHERE seq <= NEW.seq - 100000; END;"
    "CREATE TRIGGER posts_changes_ai AFTER INSERT ON posts BEGIN"
    "  INSERT INTO changes(layer, ref_id, new_geom) VALUES ('needs', NEW.id, NEW.geom); END;"
    "CREATE TRIGGER posts_changes_au AFTER UPDATE OF kind, category, title, body, status, hidden,"
    "  neighbourhood_id, claimed_by, expires_at, geom ON posts BEGIN"
    "  INSERT INTO changes(layer, ref_id, old_geom, new_geom)"
    "  VALUES ('needs', NEW.id, OLD.geom, NEW.geom); END;"
    "CREATE TRIGGER posts_changes_ad AFTER DELETE ON posts BEGIN"
    "  INSERT INTO changes(layer, ref_id, old_geom) VALUES ('needs', OLD.id, OLD.geom); END;"
    "CREATE TRIGGER shops_changes_ai AFTER INSERT ON shops BEGIN"
    "  INSERT INTO changes(layer, ref_id, new_geom) VALUES ('shops', NEW.id, NEW.geom); END;"
    "CREATE TRIGGER shops_changes_au AFTER UPDATE OF name, shop, brand, opening_hours, status,"
    "  delivers, takeaway, gift_cards, confirmed_at, geom ON shops BEGIN"
    "  INSERT INTO changes(layer, ref_id, old_geom, new_geom)"
    "  VALUES ('shops', NEW.id, OLD.geom, NEW.geom); END;"
    "CREATE TRIGGER shops_changes_ad AFTER DELETE ON shops BEGIN"
    "  INSERT INTO changes(layer, ref_id, old_geom) VALUES ('shops', OLD.id, OLD.geom); END;"
    "CREATE TRIGGER makers_changes_ai AFTER INSERT ON makers BEGIN"
    "  INSERT INTO changes(layer, ref_id, new_geom) VALUES ('makers', NEW.member_id, NEW.geom); END;"
    "CREATE TRIGGER makers_changes_au AFTER UPDATE OF capacity_per_day, stock, materials, geom"
    "  ON makers BEGIN"
    "  INSERT INTO changes(layer, ref_id, old_geom, new_geom)"
    "  VALUES ('makers', NEW.member_id, OLD.geom, NEW.geom); END;"
    "CREATE TRIGGER makers_changes_ad AFTER DELETE ON makers BEGIN"
    "  INSERT INTO changes(layer, ref_id, old_geom) VALUES ('makers', OLD.member_id, OLD.geom); END;"
    "CREATE INDEX posts_expiry ON posts(expires_at);",

    /* 6: the change feed also tells of neighbourhoods (an import, usually
     * by another process than the server): readers that keep the polygons
     * reload them. No point is recorded: a polygon is not a point. */
    "CREATE TRIGGER neighbourhoods_changes_ai AFTER INSERT ON neighbourhoods BEGIN"
    "  INSERT INTO changes(layer, ref_id) VALUES ('neighbourhoods', NEW.rowid); END;"
    "CREATE TRIGGER neighbourhoods_changes_au AFTER UPDATE OF name, label_lon, label_lat, geom"
    "  ON neighbourhoods BEGIN"
    "  INSERT INTO changes(layer, ref_id) VALUES ('neighbourhoods', NEW.rowid); END;"
    "CREATE TRIGGER neighbourhoods_changes_ad AFTER DELETE ON neighbourhoods BEGIN"
    "  INSERT INTO changes(layer, ref_id) VALUES ('neighbourhoods', OLD.rowid); END;",

    /* 7: the private conversation of a claimed post, between its author and
     * its claimer. Each message belongs to one claim (claimer_id): a
     * volunteer who claims after another hands it back never reads the
     * earlier conversation. Messages go nowhere else: not in the change
     * feed, the tiles, the exports. */
    "CREATE TABLE post_messages ("
    "  id         INTEGER PRIMARY KEY,"
    "  post_id    INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,"
    "  claimer_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,"
    "  author_id  INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,"
    "  body       TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 2000),"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX post_messages_thread ON post_messages(post_id, claimer_id, id);",

    /* 8: a shop account's claim of an imported shop waits for staff
     * (shop_claims.c); a forgotten password is reset through a one-time
     * link (password_resets.c). A member has at most one live reset. The
     * link's secret is kept in clear (token) only while staff must pass it
     * on by hand; it is found by its hash. */
    "CREATE TABLE shop_claims ("
    "  id         INTEGER PRIMARY KEY,"
    "  shop_id    INTEGER NOT NULL REFERENCES shops(id) ON DELETE CASCADE,"
    "  member_id  INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,"
    "  note       TEXT NOT NULL DEFAULT '' CHECK (length(note) <= 500),"
    "  status     TEXT NOT NULL DEFAULT 'pending'"
    "             CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn')),"
    "  created_at INTEGER NOT NULL,"
    "  decided_at INTEGER,"
    "  decided_by INTEGER REFERENCES members(id) ON DELETE SET NULL"
    ");"
    "CREATE UNIQUE INDEX shop_claims_pending ON shop_claims(shop_id, member_id) WHERE status = 'pending';"
    "CREATE INDEX shop_claims_member ON shop_claims(member_id, id);"
    "CREATE INDEX shop_claims_status ON shop_claims(status, id);"
    "CREATE TABLE password_resets ("
    "  id         INTEGER PRIMARY KEY,"
    "  member_id  INTEGER NOT NULL UNIQUE REFERENCES members(id) ON DELETE CASCADE,"
    "  token_hash BLOB NOT NULL UNIQUE,"
    "  token      TEXT,"                    /* NULL once the link was mailed */
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL"
    ");",

    /* 9: street centrelines derived from the addresses (streets.c), one line
     * per stretch (part) of a street of a commune. streets_pending lists the
     * communes whose addresses changed since their streets were derived,
     * kept by triggers whoever writes the addresses; a rebuild empties it.
     * The addresses already stored are listed here, and their streets
     * derived once this SQL has run (STREETS_MIGRATION below). The change
     * feed tells of every line written, without points: readers drop their
     * tiles. */
    "CREATE TABLE streets ("
    "  id    INTEGER PRIMARY KEY,"
    "  insee TEXT NOT NULL,"                /* the commune, as in addresses.insee */
    "  name  TEXT NOT NULL,"                /* as in addresses.street */
    "  part  INTEGER NOT NULL,"             /* 0, 1, ...: stretches of one street */
    "  UNIQUE (insee, name, part)"
    ");"
    "CREATE TABLE streets_pending (insee TEXT PRIMARY KEY) WITHOUT ROWID;"
    "INSERT INTO streets_pending(insee) SELECT DISTINCT insee FROM addresses;"
    /* NOT EXISTS rather than OR IGNORE: an upsert's DO UPDATE imposes its
     * own conflict handling on the statements of the triggers it fires. */
    "CREATE TRIGGER addresses_streets_ai AFTER INSERT ON addresses BEGIN"
    "  INSERT INTO streets_pending(insee) SELECT NEW.insee"
    "  WHERE NOT EXISTS (SELECT 1 FROM streets_pending WHERE insee = NEW.insee); END;"
    "CREATE TRIGGER addresses_streets_au AFTER UPDATE OF number, rep, street, insee, geom"
    "  ON addresses WHEN OLD.number IS NOT NEW.number OR OLD.rep IS NOT NEW.rep"
    "  OR OLD.street IS NOT NEW.street OR OLD.insee IS NOT NEW.insee OR OLD.geom IS NOT NEW.geom BEGIN"
    "  INSERT INTO streets_pending(insee) SELECT OLD.insee"
    "  WHERE NOT EXISTS (SELECT 1 FROM streets_pending WHERE insee = OLD.insee);"
    "  INSERT INTO streets_pending(insee) SELECT NEW.insee"
    "  WHERE NOT EXISTS (SELECT 1 FROM streets_pending WHERE insee = NEW.insee); END;"
    "CREATE TRIGGER addresses_streets_ad AFTER DELETE ON addresses BEGIN"
    "  INSERT INTO streets_pending(insee) SELECT OLD.insee"
    "  WHERE NOT EXISTS (SELECT 1 FROM streets_pending WHERE insee = OLD.insee); END;"
    "CREATE TRIGGER streets_changes_ai AFTER INSERT ON streets BEGIN"
    "  INSERT INTO changes(layer, ref_id) VALUES ('streets', NEW.id); END;"
    "CREATE TRIGGER streets_changes_au AFTER UPDATE OF insee, name, geom ON streets BEGIN"
    "  INSERT INTO changes(layer, ref_id) VALUES ('streets', NEW.id); END;"
    "CREATE TRIGGER streets_changes_ad AFTER DELETE ON streets BEGIN"
    "  INSERT INTO changes(layer, ref_id) VALUES ('streets', OLD.id); END;",

    /* 10: when a post was marked done (geodata_post_finish), for the staff
     * statistics' median time from claim to done (stats.c). Posts done
     * before this version have none: their time is not known. The
     * statistics select posts by creation day, hence the index. */
    "ALTER TABLE posts ADD COLUMN done_at INTEGER;"
    "CREATE INDEX posts_created ON posts(created_at);",

    /* 11: thematic groups and comments (groups.c, comments.c). A group lives
     * in its creator's neighbourhood; activated_at is set by the join that
     * reaches the server's threshold and is never unset. A member removed by
     * a moderator keeps a row with removed_by, so they cannot join again;
     * member_count counts the others, kept by the writers in the same
     * transaction. A post may be addressed to a group. Comments are public
     * to whoever sees their post; posts.comment_count counts the visible ones
     * (triggers), and each change of a comment is a change-feed entry of
     * layer 'comments' naming its post, so the readers of posts refresh it. */
    "CREATE TABLE groups ("
    "  id           INTEGER PRIMARY KEY,"
    "  name         TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),"
    "  description  TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 2000),"
    "  category     TEXT NOT NULL,"
    "  neighbourhood_id TEXT NOT NULL REFERENCES neighbourhoods(id),"
    "  creator_id   INTEGER REFERENCES members(id) ON DELETE SET NULL,"
    "  member_count INTEGER NOT NULL DEFAULT 0,"
    "  created_at   INTEGER NOT NULL,"
    "  activated_at INTEGER"
    ");"
    "CREATE INDEX groups_neighbourhood ON groups(neighbourhood_id);"
    "CREATE TABLE group_members ("
    "  group_id   INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,"
    "  member_id  INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,"
    "  joined_at  INTEGER NOT NULL,"
    "  removed_by INTEGER,"                   /* a moderator's id: no longer a member */
    "  PRIMARY KEY (group_id, member_id)"
    ") WITHOUT ROWID;"
    "CREATE INDEX group_members_member ON group_members(member_id);"
    "ALTER TABLE posts ADD COLUMN group_id INTEGER REFERENCES groups(id) ON DELETE SET NULL;"
    "ALTER TABLE posts ADD COLUMN comment_count INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX posts_group ON posts(group_id, id) WHERE group_id IS NOT NULL;"
    "CREATE TABLE comments ("
    "  id         INTEGER PRIMARY KEY,"
    "  post_id    INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,"
    "  author_id  INTEGER REFERENCES members(id) ON DELETE SET NULL,"
    "  body       TEXT NOT NULL CHECK (length(CAST(body AS BLOB)) BETWEEN 1 AND 4000),"
    "  created_at INTEGER NOT NULL,"
    "  edited_at  INTEGER,"
    "  hidden     INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE INDEX comments_post ON comments(post_id, id);"
    "CREATE TABLE comment_reports ("
    "  id          INTEGER PRIMARY KEY,"
    "  comment_id  INTEGER NOT NULL REFERENCES comments(id) ON DELETE CASCADE,"
    "  reporter_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,"
    "  reason      TEXT NOT NULL DEFAULT '',"
    "  created_at  INTEGER NOT NULL DEFAULT (unixepoch()),"
    "  UNIQUE (comment_id, reporter_id)"
    ");"
    "CREATE VIRTUAL TABLE comments_fts USING fts5(body, content='comments', content_rowid='id',"
    "  tokenize='unicode61 remove_diacritics 2');"
    "CREATE TRIGGER comments_ai AFTER INSERT ON comments BEGIN"
    "  INSERT INTO comments_fts(rowid, body) VALUES (NEW.id, NEW.body);"
    "  UPDATE posts SET comment_count = comment_count + 1 WHERE id = NEW.post_id AND NEW.hidden = 0;"
    "  INSERT INTO changes(layer, ref_id) VALUES ('comments', NEW.post_id); END;"
    "CREATE TRIGGER comments_ad AFTER DELETE ON comments BEGIN"
    "  INSERT INTO comments_fts(comments_fts, rowid, body) VALUES ('delete', OLD.id, OLD.body);"
    "  UPDATE posts SET comment_count = comment_count - 1 WHERE id = OLD.post_id AND OLD.hidden = 0;"
    "  INSERT INTO changes(layer, ref_id) VALUES ('comments', OLD.post_id); END;"
    "CREATE TRIGGER comments_au AFTER UPDATE OF body, hidden ON comments BEGIN"
    "  INSERT INTO comments_fts(comments_fts, rowid, body) VALUES ('delete', OLD.id, OLD.body);"
    "  INSERT INTO comments_fts(rowid, body) VALUES (NEW.id, NEW.body);"
    "  UPDATE posts SET comment_count = comment_count + OLD.hidden - NEW.hidden"
    "  WHERE id = NEW.post_id;"
    "  INSERT INTO changes(layer, ref_id) VALUES ('comments', NEW.post_id); END;"
    "DROP TRIGGER posts_changes_au;"
    "CREATE TRIGGER posts_changes_au AFTER UPDATE OF kind, category, title, body, status, hidden,"
    "  neighbourhood_id, claimed_by, expires_at, geom, group_id ON posts BEGIN"
    "  INSERT INTO changes(layer, ref_id, old_geom, new_geom)"
    "  VALUES ('needs', NEW.id, OLD.geom, NEW.geom); END;",

    /* 12: alerts by email (subscriptions.c, alert_deliveries.c). A
     * subscription's area is a radius around its member's home or a polygon
     * (area: a SpatiaLite geometry, not a registered column: it is only ever
     * tested against one post's point; polygon: its GeoJSON as given back).
     * cursor is the change-feed seq up to which posts were considered, so
     * nothing older is alerted. A delivery is one mail to send or sent: a
     * post's alert ('post'), a digest's item waiting for its digest ('item',
     * digest_id naming the digest once it is made), a digest ('digest') or
     * a test ('test'); UNIQUE(subscription_id, post_id) alerts a post once
     * per subscription. Deleting a subscription drops what it had not sent
     * and keeps its log, unlinked. secrets holds the server's own keys (the
     * unsubscribe links' HMAC key), made at first use. */
    "CREATE TABLE subscriptions ("
    "  id            INTEGER PRIMARY KEY,"
    "  member_id     INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,"
    "  kinds         TEXT NOT NULL,"           /* 'request', 'offer' or 'request,offer' */
    "  categories    TEXT NOT NULL DEFAULT '',"/* comma-separated; '' all */
    "  radius_m      INTEGER CHECK (radius_m BETWEEN 50 AND 5000),"
    "  polygon       TEXT,"                    /* GeoJSON Polygon, EPSG:4326 */
    "  area          BLOB,"                    /* the same as a SpatiaLite geometry */
    "  mode          TEXT NOT NULL CHECK (mode IN ('immediate', 'digest')),"
    "  quiet_start   INTEGER CHECK (quiet_start BETWEEN 0 AND 1439)," /* minutes, local */
    "  quiet_end     INTEGER CHECK (quiet_end BETWEEN 0 AND 1439),"
    "  created_at    INTEGER NOT NULL,"
    "  cursor        INTEGER NOT NULL,"        /* changes.seq considered up to */
    "  paused_at     INTEGER,"
    "  paused_reason TEXT,"
    "  failures      INTEGER NOT NULL DEFAULT 0," /* consecutive hard failures */
    "  CHECK ((radius_m IS NULL) <> (area IS NULL))"
    ");"
    "CREATE INDEX subscriptions_member ON subscriptions(member_id);"
    "CREATE TABLE alert_deliveries ("
    "  id              INTEGER PRIMARY KEY,"
    "  subscription_id INTEGER REFERENCES subscriptions(id) ON DELETE SET NULL,"
    "  member_id       INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,"
    "  post_id         INTEGER REFERENCES posts(id) ON DELETE SET NULL,"
    "  type            TEXT NOT NULL CHECK (type IN ('post', 'item', 'digest', 'test')),"
    "  digest_id       INTEGER REFERENCES alert_deliveries(id) ON DELETE SET NULL,"
    "  status          TEXT NOT NULL DEFAULT 'pending'"
    "                  CHECK (status IN ('pending', 'sent', 'failed', 'retrying', 'dropped')),"
    "  attempts        INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt_at INTEGER NOT NULL,"
    "  last_error      TEXT,"
    "  distance_m      REAL,"                  /* from the subscriber's home to the public point */
    "  created_at      INTEGER NOT NULL,"
    "  sent_at         INTEGER,"
    "  UNIQUE (subscription_id, post_id)"
    ");"
    "CREATE INDEX alert_deliveries_due ON alert_deliveries(next_attempt_at)"
    "  WHERE status IN ('pending', 'retrying');"
    "CREATE INDEX alert_deliveries_member ON alert_deliveries(member_id, id);"
    "CREATE INDEX alert_deliveries_digest ON alert_deliveries(digest_id) WHERE digest_id IS NOT NULL;"
    "CREATE TABLE secrets ("
    "  name  TEXT PRIMARY KEY,"
    "  value BLOB NOT NULL"
    ") WITHOUT ROWID;",

    /* 13: members' private feed tokens (feeds.c): the hash of each member's
     * one token, which a new token replaces. */
    "CREATE TABLE feed_tokens ("
    "  member_id  INTEGER PRIMARY KEY REFERENCES members(id) ON DELETE CASCADE,"
    "  token_hash BLOB NOT NULL UNIQUE,"
    "  created_at INTEGER NOT NULL"
    ");",
};

/* The migration after which the streets of the stored addresses are derived
 * (in its transaction): a database imported before it gets its streets on
 * its first opening by this program. */
#define STREETS_MIGRATION 9

#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

/* The geometry columns each migration adds, after its SQL has run: all are
 * EPSG:4326 and indexed (spatial_index.c). posts.geom is the coarse public
 * point of a post, never its author's home. */
static const struct { int version; const char *table, *type; } geometry_columns[] = {
    { 1, "neighbourhoods", "MULTIPOLYGON" },
    { 1, "addresses", "POINT" },
    { 1, "posts", "POINT" },
    { 1, "makers", "POINT" },
    { 1, "shops", "POINT" },
    { 9, "streets", "LINESTRING" },
};

static int add_geometry_columns(geodata_store *store, int version)
{
    for (size_t i = 0; i < sizeof geometry_columns / sizeof geometry_columns[0]; i++) {
        if (geometry_columns[i].version != version)
            continue;
        int rc = geodata_spatial_column_add(store, geometry_columns[i].table,
                                            geometry_columns[i].type);
        if (rc)
            return rc;
    }
    return GEODATA_OK;
}

int geodata_schema_version_current(void)
{
    return N_MIGRATIONS;
}

int geodata_store_schema_version(geodata_store *store, int *out)
{
    *out = 0;
    sql_stmt *st = geodata_cached(store, GEODATA_DIALECT(store,
        "PRAGMA user_version",
        "SELECT max(version) FROM geodata_schema"));
    if (!st)
        return GEODATA_EDB;
    int rc = sql_step(st);
    if (rc == SQL_ROW)
        *out = sql_column_int(st, 0);
    geodata_release(store, st);
    return rc == SQL_ROW ? GEODATA_OK : geodata_fail_sql(store, "reading the schema version");
}

/* SpatiaLite's metadata tables come first, in their own transaction: the
 * function opens one itself. Only WGS84-based reference systems are loaded. */
static int init_spatial_metadata(geodata_store *store)
{
    sql_stmt *st = geodata_prepare(store,
        "SELECT count(*) FROM sqlite_schema WHERE name = 'spatial_ref_sys'");
    if (!st)
        return GEODATA_EDB;
    int present = sql_step(st) == SQL_ROW && sql_column_int(st, 0) > 0;
    sql_finalize(st);
    if (present)
        return GEODATA_OK;
    st = geodata_prepare(store, "SELECT InitSpatialMetadata(1, 'WGS84')");
    if (!st)
        return GEODATA_EDB;
    int ok = sql_step(st) == SQL_ROW && sql_column_int(st, 0) == 1;
    sql_finalize(st);
    return ok ? GEODATA_OK
              : geodata_fail(store, GEODATA_EDB, "cannot initialise SpatiaLite metadata: %s",
                             sqlite3_errmsg(store->db));
}

int geodata_schema_migrate(geodata_store *store)
{
    int version = 0;
    int rc = geodata_store_schema_version(store, &version);
    if (rc)
        return rc;
    if (version > N_MIGRATIONS)
        return geodata_fail(store, GEODATA_ESCHEMA,
                            "the database has schema version %d, newer than this program's %d",
                            version, N_MIGRATIONS);
    if (version == N_MIGRATIONS)
        return GEODATA_OK;
    rc = init_spatial_metadata(store);
    for (int v = version; !rc && v < N_MIGRATIONS; v++) {
        rc = geodata_begin(store);
        if (rc)
            break;
        char bump[48];
        snprintf(bump, sizeof bump, "PRAGMA user_version=%d", v + 1);
        if (sqlite3_exec(store->db, migrations[v], NULL, NULL, NULL) != SQLITE_OK
            || sqlite3_exec(store->db, bump, NULL, NULL, NULL) != SQLITE_OK) {
            rc = geodata_fail(store, GEODATA_EDB, "schema migration to version %d failed: %s",
                              v + 1, sqlite3_errmsg(store->db));
            geodata_rollback(store);
            break;
        }
        rc = add_geometry_columns(store, v + 1);
        if (!rc && v + 1 == STREETS_MIGRATION)
            rc = geodata_streets_rebuild(store, NULL, NULL, NULL);
        if (rc) {
            geodata_rollback(store);
            break;
        }
        rc = geodata_commit(store);
    }
    return rc;
}
