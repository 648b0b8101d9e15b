/*
 * geodata/store/schema_pg.c — the store's schema on PostgreSQL + PostGIS.
 *
 * One baseline, not a replay of the history: the SQLite store reached its
 * schema through migrations 1..N (schema.c), each a released step that
 * existing files had to take. No PostgreSQL store predates this file, so a
 * fresh one starts at today's version in one transaction, and
 * geodata_schema records GEODATA_PG_BASE_VERSION. A later change of the
 * schema is a migration N+1 appended to schema.c and, side by side, to a
 * list of PostgreSQL migrations starting after this baseline, so the two
 * engines keep the same version numbers (tests/pg/test_schema_pg.sh checks
 * that this baseline's version is the SQLite store's).
 *
 * What is the same: tables and columns (same names, same order — columns a
 * SQLite migration added with ALTER TABLE come last, after geom, as there),
 * primary keys, UNIQUE and CHECK constraints, foreign keys with their ON
 * DELETE rules, indexes by name, defaults, and what every trigger does, so
 * that the domain's SQL, written portably, gives the same results on both.
 * How each SQLite construct maps:
 *
 * - INTEGER is bigint, REAL double precision, TEXT text, BLOB bytea. An
 *   INTEGER PRIMARY KEY is an identity (BY DEFAULT: an explicit id is
 *   accepted, but the identity does not move past it as SQLite's rowid does;
 *   a writer of explicit ids then calls setval). Where that key is also a
 *   foreign key (makers, feed_tokens) it is a plain bigint: its value always
 *   comes from members. 0/1 flags stay integers: the SQL compares them with
 *   0 and 1. An identity never gives a number twice, where SQLite gives the
 *   largest id of a deleted last row again: code that reads ids back uses
 *   RETURNING (or the last insert id), never "max + 1".
 * - unixepoch() is a SQL function of the schema: Unix seconds of the current
 *   statement's start, truncated, as SQLite's unixepoch() is Unix seconds of
 *   the current step.
 * - Emails (COLLATE NOCASE) are citext: `email = $1` and the UNIQUE
 *   constraint ignore case. In a database with the C locale, as the test
 *   cluster's, citext folds ASCII letters only, exactly like NOCASE.
 * - Geometry columns are PostGIS's geometry(<type>, 4326), NOT NULL as
 *   SpatiaLite's registered ones, with a GiST index named idx_<table>_geom
 *   like the SQLite store's R*Tree; queries use `geom && ST_MakeEnvelope(...)`
 *   where SQLite's join the R*Tree. The column's type modifier does what the
 *   store's ggi_/ggu_ check triggers do (type and SRID); GiST maintains
 *   itself, so the gii_/giu_/gid_ R*Tree triggers have no counterpart. The
 *   SpatiaLite BLOBs outside registered columns — changes.old_geom/new_geom
 *   (copies of a point column) and subscriptions.area (GeomFromWKB) — are
 *   geometries too: a bytea could not receive them. SpatiaLite's metadata
 *   tables are PostGIS's own (geometry_columns, spatial_ref_sys).
 * - FTS5 tables (posts_fts, comments_fts: external content, tokenizer
 *   unicode61 remove_diacritics 2, no prefix index) are ordinary tables
 *   (rowid = the post's or comment's id, fts = a tsvector) kept by the
 *   triggers of the same names, with a GIN index. The vector is
 *   to_tsvector('simple', translate(unaccent(column), '<>', '  ')), one per
 *   column, concatenated (< and > blanked: unaccent turns « » into << >>,
 *   and PostgreSQL's parser would take «word» for a tag and drop it):
 *   no stemming, case folded, diacritics removed, as unicode61 does. Where
 *   SQLite says
 *       p.id IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?5)
 *   PostgreSQL says
 *       p.id IN (SELECT rowid FROM posts_fts
 *                WHERE fts @@ to_tsquery('simple', unaccent(?5)))
 *   bound to geodata_fts_tsquery's text (fts.c: every word quoted, all
 *   required, the pieces of a word cut at punctuation joined by <->).
 *   Equivalently, websearch_to_tsquery('simple', unaccent(?5)) reads
 *   geodata_fts_query's FTS5 text ("w1" "w2") as FTS5 does — a quoted word a
 *   phrase of its tokens, words ANDed, nothing inside quotes an operator —
 *   which is how tests/pg/test_schema_pg.sh compares the two engines. Whole
 *   words only, as FTS5's without a prefix query ("word"*). Known
 *   differences, all rare: PostgreSQL's parser keeps host names, e-mail
 *   addresses and numbers with dots (example.com) as one token where
 *   unicode61 splits them; unaccent also unfolds ligatures (œ matches oe);
 *   a C-locale database folds the case of Latin letters only (after
 *   unaccent), not of Greek or Cyrillic.
 * - The change feed: changes.seq was INTEGER PRIMARY KEY AUTOINCREMENT,
 *   and changes.c and its readers rely on two of SQLite's properties:
 *   numbers without gaps (a rolled-back insert takes its number back), and
 *   numbers in commit order (SQLite has one writer at a time), so that a reader that
 *   saw N has seen everything below N. A sequence has neither. Here seq
 *   comes from the one row of changes_seq (sqlite_sequence's counterpart),
 *   read and locked by the BEFORE INSERT trigger changes_seq at a
 *   transaction's first change, counted on in the transaction, written back
 *   once at commit: a rollback takes its numbers back, and the row lock, held to commit, orders the
 *   transactions that write changes as SQLite's write lock does. This
 *   holds under READ COMMITTED (PostgreSQL's default); under REPEATABLE
 *   READ or SERIALIZABLE the second writer gets a serialisation failure
 *   instead of waiting. A write transaction that touches several tables
 *   avoids deadlocks by taking that lock first, as SQLite's BEGIN
 *   IMMEDIATE takes its own: `SELECT last FROM changes_seq FOR UPDATE`.
 *   After each statement that inserts changes, changes_notify sends
 *   NOTIFY geodata_changes with the newest seq as its payload (delivered at
 *   commit, never for a rolled-back one): other processes LISTEN instead of
 *   polling.
 * - Triggers are plpgsql functions run FOR EACH ROW (changes_notify, and
 *   the addresses' inserts and deletes that list communes for their
 *   streets: once per statement, over its rows), with the SQLite trigger's
 *   name, event and column list (UPDATE OF fires when the statement sets
 *   one of the columns, changed or not, on both engines); a WHEN's `IS NOT`
 *   is `IS DISTINCT FROM` (on geometries PostGIS's `=`, exact equality).
 *   streets_pending is written with ON CONFLICT DO NOTHING, which two
 *   concurrent writers cannot trip over as they could over SQLite's NOT
 *   EXISTS. Foreign-key actions fire
 *   triggers on both engines; the entries that the cascades of one
 *   statement write (deleting a member: their posts go, others' claims of
 *   theirs are cleared) come in another order on each, within the same
 *   transaction. The neighbourhoods' change-feed entries carried their
 *   SQLite rowid, which no reader uses (a neighbourhood change reloads every
 *   polygon) and PostgreSQL has not: their ref_id is 0.
 *
 * The tables are created in the SQLite store's migration order, except
 * groups and group_members, which come before posts (posts.group_id
 * references them).
 */
#include "schema_pg.h"

#define PG_STR_(x) #x
#define PG_STR(x) PG_STR_(x)

const char geodata_pg_schema[] =
    "CREATE EXTENSION IF NOT EXISTS postgis;"
    "CREATE EXTENSION IF NOT EXISTS citext;"
    "CREATE EXTENSION IF NOT EXISTS unaccent;"

    "CREATE TABLE geodata_schema (version integer NOT NULL);"
    "INSERT INTO geodata_schema(version) VALUES (" PG_STR(GEODATA_PG_BASE_VERSION) ");"

    "CREATE FUNCTION unixepoch() RETURNS bigint LANGUAGE sql STABLE PARALLEL SAFE"
    "  AS $$SELECT floor(extract(epoch FROM statement_timestamp()))::bigint$$;"

    /* ---- 1: the first schema ---- */
    "CREATE TABLE neighbourhoods ("
    "  id        text PRIMARY KEY,"
    "  name      text NOT NULL,"
    "  label_lon double precision NOT NULL,"
    "  label_lat double precision NOT NULL,"
    "  area_m2   double precision NOT NULL,"
    "  geom      geometry(MultiPolygon, 4326) NOT NULL"
    ");"
    "CREATE INDEX idx_neighbourhoods_geom ON neighbourhoods USING gist (geom);"
    "CREATE TABLE neighbourhood_contiguity ("
    "  a     text NOT NULL REFERENCES neighbourhoods(id) ON DELETE CASCADE,"
    "  b     text NOT NULL REFERENCES neighbourhoods(id) ON DELETE CASCADE,"
    "  gap_m double precision NOT NULL,"
    "  PRIMARY KEY (a, b)"
    ");"
    "CREATE TABLE addresses ("
    "  id        bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  source_id text NOT NULL UNIQUE,"
    "  number    bigint NOT NULL,"
    "  rep       text NOT NULL DEFAULT '',"
    "  street    text NOT NULL,"
    "  postcode  text NOT NULL,"
    "  insee     text NOT NULL,"
    "  city      text NOT NULL,"
    "  neighbourhood_id text REFERENCES neighbourhoods(id) ON DELETE SET NULL,"
    "  geom      geometry(Point, 4326) NOT NULL"
    ");"
    "CREATE INDEX addresses_neighbourhood ON addresses(neighbourhood_id);"
    "CREATE INDEX idx_addresses_geom ON addresses USING gist (geom);"
    "CREATE TABLE members ("
    "  id            bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  email         citext NOT NULL UNIQUE,"
    "  password_hash text NOT NULL,"
    "  display_name  text NOT NULL,"
    "  role          text NOT NULL DEFAULT 'member'"
    "                CHECK (role IN ('member', 'shop', 'staff', 'admin')),"
    "  address_id    bigint REFERENCES addresses(id) ON DELETE SET NULL,"
    "  address_text  text,"
    "  home_lon      double precision,"
    "  home_lat      double precision,"
    "  neighbourhood_id text REFERENCES neighbourhoods(id) ON DELETE SET NULL,"
    "  created_at    bigint NOT NULL DEFAULT unixepoch()"
    ");"
    "CREATE INDEX members_neighbourhood ON members(neighbourhood_id);"
    "CREATE TABLE sessions ("
    "  token_hash bytea PRIMARY KEY,"
    "  member_id  bigint NOT NULL REFERENCES members(id) ON DELETE CASCADE,"
    "  csrf       text NOT NULL,"
    "  created_at bigint NOT NULL DEFAULT unixepoch(),"
    "  expires_at bigint NOT NULL"
    ");"
    "CREATE INDEX sessions_member ON sessions(member_id);"

    /* (11, ahead of posts, which references them) */
    "CREATE TABLE groups ("
    "  id           bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),"
    "  description  text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),"
    "  category     text NOT NULL,"
    "  neighbourhood_id text NOT NULL REFERENCES neighbourhoods(id),"
    "  creator_id   bigint REFERENCES members(id) ON DELETE SET NULL,"
    "  member_count bigint NOT NULL DEFAULT 0,"
    "  created_at   bigint NOT NULL,"
    "  activated_at bigint"
    ");"
    "CREATE INDEX groups_neighbourhood ON groups(neighbourhood_id);"
    "CREATE TABLE group_members ("
    "  group_id   bigint NOT NULL REFERENCES groups(id) ON DELETE CASCADE,"
    "  member_id  bigint NOT NULL REFERENCES members(id) ON DELETE CASCADE,"
    "  joined_at  bigint NOT NULL,"
    "  removed_by bigint,"
    "  PRIMARY KEY (group_id, member_id)"
    ");"
    "CREATE INDEX group_members_member ON group_members(member_id);"

    "CREATE TABLE posts ("
    "  id         bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  author_id  bigint NOT NULL REFERENCES members(id) ON DELETE CASCADE,"
    "  kind       text NOT NULL CHECK (kind IN ('request', 'offer')),"
    "  category   text NOT NULL CHECK (category IN ('groceries', 'pharmacy', 'childcare',"
    "             'schooling', 'masks', 'errands', 'company', 'pets', 'materials', 'other')),"
    "  title      text NOT NULL,"
    "  body       text NOT NULL DEFAULT '',"
    "  status     text NOT NULL DEFAULT 'open'"
    "             CHECK (status IN ('open', 'claimed', 'done', 'cancelled')),"
    "  hidden     bigint NOT NULL DEFAULT 0,"
    "  neighbourhood_id text REFERENCES neighbourhoods(id) ON DELETE SET NULL,"
    "  claimed_by bigint REFERENCES members(id) ON DELETE SET NULL,"
    "  views      bigint NOT NULL DEFAULT 0,"
    "  created_at bigint NOT NULL DEFAULT unixepoch(),"
    "  updated_at bigint NOT NULL DEFAULT unixepoch(),"
    "  expires_at bigint NOT NULL,"
    "  claimed_at bigint,"
    "  geom       geometry(Point, 4326) NOT NULL,"   /* the coarse public point */
    "  done_at    bigint,"                                                   /* (10) */
    "  group_id   bigint REFERENCES groups(id) ON DELETE SET NULL,"          /* (11) */
    "  comment_count bigint NOT NULL DEFAULT 0"                              /* (11) */
    ");"
    "CREATE INDEX posts_neighbourhood ON posts(neighbourhood_id, status);"
    "CREATE INDEX posts_author ON posts(author_id);"
    "CREATE INDEX idx_posts_geom ON posts USING gist (geom);"
    "CREATE TABLE post_views ("
    "  post_id   bigint NOT NULL REFERENCES posts(id) ON DELETE CASCADE,"
    "  member_id bigint NOT NULL REFERENCES members(id) ON DELETE CASCADE,"
    "  PRIMARY KEY (post_id, member_id)"
    ");"
    "CREATE TABLE post_reports ("
    "  id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  post_id     bigint NOT NULL REFERENCES posts(id) ON DELETE CASCADE,"
    "  reporter_id bigint REFERENCES members(id) ON DELETE SET NULL,"
    "  reason      text NOT NULL DEFAULT '',"
    "  created_at  bigint NOT NULL DEFAULT unixepoch()"
    ");"
    "CREATE INDEX post_reports_post ON post_reports(post_id);"
    "CREATE TABLE makers ("
    "  member_id        bigint PRIMARY KEY REFERENCES members(id) ON DELETE CASCADE,"
    "  capacity_per_day bigint NOT NULL DEFAULT 0 CHECK (capacity_per_day >= 0),"
    "  stock            bigint NOT NULL DEFAULT 0 CHECK (stock >= 0),"
    "  materials        text NOT NULL DEFAULT '[]',"
    "  updated_at       bigint NOT NULL DEFAULT unixepoch(),"
    "  geom             geometry(Point, 4326) NOT NULL,"
    "  materials_post_id bigint REFERENCES posts(id) ON DELETE SET NULL"    /* (3) */
    ");"
    "CREATE INDEX idx_makers_geom ON makers USING gist (geom);"
    "CREATE TABLE maker_orders ("
    "  id           bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  maker_id     bigint NOT NULL REFERENCES makers(member_id) ON DELETE CASCADE,"
    "  requester_id bigint NOT NULL REFERENCES members(id) ON DELETE CASCADE,"
    "  quantity     bigint NOT NULL CHECK (quantity > 0),"
    "  note         text NOT NULL DEFAULT '',"
    "  status       text NOT NULL DEFAULT 'pending'"
    "               CHECK (status IN ('pending', 'accepted', 'ready', 'delivered', 'declined')),"
    "  created_at   bigint NOT NULL DEFAULT unixepoch(),"
    "  updated_at   bigint NOT NULL DEFAULT unixepoch()"
    ");"
    "CREATE INDEX maker_orders_maker ON maker_orders(maker_id, status);"
    "CREATE INDEX maker_orders_requester ON maker_orders(requester_id);"
    "CREATE TABLE shops ("
    "  id            bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  source_id     text UNIQUE,"
    "  name          text,"
    "  shop          text,"
    "  brand         text,"
    "  opening_hours text,"
    "  addr_housenumber text, addr_street text, addr_postcode text, addr_city text,"
    "  status        text NOT NULL DEFAULT 'unknown' CHECK (status IN"
    "                ('unknown', 'open', 'closed', 'delivery_only', 'takeaway_only')),"
    "  delivers      bigint NOT NULL DEFAULT 0,"
    "  takeaway      bigint NOT NULL DEFAULT 0,"
    "  gift_cards    bigint NOT NULL DEFAULT 0,"
    "  confirmed_at  bigint,"
    "  owner_id      bigint REFERENCES members(id) ON DELETE SET NULL,"
    "  neighbourhood_id text REFERENCES neighbourhoods(id) ON DELETE SET NULL,"
    "  updated_at    bigint NOT NULL DEFAULT unixepoch(),"
    "  geom          geometry(Point, 4326) NOT NULL"
    ");"
    "CREATE INDEX shops_neighbourhood ON shops(neighbourhood_id);"
    "CREATE INDEX idx_shops_geom ON shops USING gist (geom);"
    "CREATE TABLE audit_log ("
    "  id       bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  at       bigint NOT NULL DEFAULT unixepoch(),"
    "  actor_id bigint REFERENCES members(id) ON DELETE SET NULL,"
    "  action   text NOT NULL,"
    "  target   text,"
    "  detail   text"
    ");"

    /* ---- 2: keyword search over posts; sessions by expiry ---- */
    "CREATE TABLE posts_fts ("
    "  rowid bigint PRIMARY KEY,"              /* posts.id */
    "  fts   tsvector NOT NULL"                /* title's words, then body's */
    ");"
    "CREATE INDEX posts_fts_words ON posts_fts USING gin (fts);"
    "CREATE FUNCTION posts_fts_trigger() RETURNS trigger LANGUAGE plpgsql AS $$"
    "BEGIN"
    "  IF TG_OP <> 'INSERT' THEN DELETE FROM posts_fts WHERE rowid = OLD.id; END IF;"
    "  IF TG_OP <> 'DELETE' THEN"
    "    INSERT INTO posts_fts(rowid, fts) VALUES (NEW.id,"
    "      to_tsvector('simple', translate(unaccent(NEW.title), '<>', '  '))"
    "      || to_tsvector('simple', translate(unaccent(NEW.body), '<>', '  ')));"
    "  END IF;"
    "  RETURN NULL;"
    "END $$;"
    "CREATE TRIGGER posts_fts_ai AFTER INSERT ON posts"
    "  FOR EACH ROW EXECUTE FUNCTION posts_fts_trigger();"
    "CREATE TRIGGER posts_fts_ad AFTER DELETE ON posts"
    "  FOR EACH ROW EXECUTE FUNCTION posts_fts_trigger();"
    "CREATE TRIGGER posts_fts_au AFTER UPDATE OF title, body ON posts"
    "  FOR EACH ROW EXECUTE FUNCTION posts_fts_trigger();"
    "CREATE INDEX sessions_expiry ON sessions(expires_at);"

    /* ---- 4: one report per member and post ---- */
    "CREATE UNIQUE INDEX post_reports_once ON post_reports(post_id, reporter_id);"

    /* ---- 5: the change feed ---- */
    "CREATE TABLE changes ("
    "  seq      bigint PRIMARY KEY,"           /* from changes_seq, by trigger */
    "  layer    text NOT NULL,"
    "  ref_id   bigint NOT NULL,"
    "  old_geom geometry(Point, 4326),"        /* public point before; NULL on insert */
    "  new_geom geometry(Point, 4326)"         /* public point after; NULL on delete */
    ");"
    "CREATE TABLE changes_seq ("
    "  id   integer PRIMARY KEY CHECK (id = 1),"  /* one row */
    "  last bigint NOT NULL"                   /* the largest seq ever given */
    ");"
    "INSERT INTO changes_seq(id, last) VALUES (1, 0);"
    /* An explicit seq is kept, and the counter moves past it, as
     * AUTOINCREMENT's sqlite_sequence does. The first change of a
     * transaction locks the counter's row (held to commit) and reads it;
     * the transaction then counts in a setting of its own (geodata.seq,
     * local: undone with the transaction, or with a savepoint rolled back),
     * and the row is written once, at commit, by the deferred trigger
     * changes_seq_save. Updating the row for every change would leave one
     * row version per change for the next to walk: a statement writing
     * 100,000 changes took minutes. */
    "CREATE FUNCTION changes_seq_trigger() RETURNS trigger LANGUAGE plpgsql AS $$"
    "DECLARE cur text := current_setting('geodata.seq', true); n bigint;"
    "BEGIN"
    "  IF cur IS NULL OR cur = '' THEN"
    "    SELECT last INTO n FROM changes_seq WHERE id = 1 FOR UPDATE;"
    "  ELSE"
    "    n := cur::bigint;"
    "  END IF;"
    "  IF NEW.seq IS NULL THEN"
    "    n := n + 1;"
    "    NEW.seq := n;"
    "  ELSE"
    "    n := greatest(n, NEW.seq);"
    "  END IF;"
    "  PERFORM set_config('geodata.seq', n::text, true);"
    "  RETURN NEW;"
    "END $$;"
    "CREATE TRIGGER changes_seq BEFORE INSERT ON changes"
    "  FOR EACH ROW EXECUTE FUNCTION changes_seq_trigger();"
    "CREATE FUNCTION changes_seq_save_trigger() RETURNS trigger LANGUAGE plpgsql AS $$"
    "BEGIN"
    "  IF NEW.seq = current_setting('geodata.seq', true)::bigint THEN"
    "    UPDATE changes_seq SET last = NEW.seq WHERE id = 1 AND last < NEW.seq;"
    "  END IF;"
    "  RETURN NULL;"
    "END $$;"
    "CREATE CONSTRAINT TRIGGER changes_seq_save AFTER INSERT ON changes"
    "  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION changes_seq_save_trigger();"
    "CREATE FUNCTION changes_prune_trigger() RETURNS trigger LANGUAGE plpgsql AS $$"
    "BEGIN"
    "  DELETE FROM changes WHERE seq <= NEW.seq - 100000;"
    "  RETURN NULL;"
    "END $$;"
    "CREATE TRIGGER changes_prune AFTER INSERT ON changes FOR EACH ROW WHEN (NEW.seq % 1000 = 0)"
    "  EXECUTE FUNCTION changes_prune_trigger();"
    "CREATE FUNCTION changes_notify_trigger() RETURNS trigger LANGUAGE plpgsql AS $$"
    "DECLARE newest bigint;"
    "BEGIN"
    "  SELECT max(seq) INTO newest FROM inserted;"
    "  IF newest IS NOT NULL THEN"
    "    PERFORM pg_notify('geodata_changes', newest::text);"
    "  END IF;"
    "  RETURN NULL;"
    "END $$;"
    "CREATE TRIGGER changes_notify AFTER INSERT ON changes REFERENCING NEW TABLE AS inserted"
    "  FOR EACH STATEMENT EXECUTE FUNCTION changes_notify_trigger();"

    "CREATE FUNCTION posts_changes_trigger() RETURNS trigger LANGUAGE plpgsql AS $$"
    "BEGIN"
    "  IF TG_OP = 'INSERT' THEN"
    "    INSERT INTO changes(layer, ref_id, new_geom) VALUES ('needs', NEW.id, NEW.geom);"
    "  ELSIF TG_OP = 'UPDATE' THEN"
    "    INSERT INTO changes(layer, ref_id, old_geom, new_geom)"
    "    VALUES ('needs', NEW.id, OLD.geom, NEW.geom);"
    "  ELSE"
    "    INSERT INTO changes(layer, ref_id, old_geom) VALUES ('needs', OLD.id, OLD.geom);"
    "  END IF;"
    "  RETURN NULL;"
    "END $$;"
    "CREATE TRIGGER posts_changes_ai AFTER INSERT ON posts"
    "  FOR EACH ROW EXECUTE FUNCTION posts_changes_trigger();"
    /* (with group_id since 11) */
    "CREATE TRIGGER posts_changes_au AFTER UPDATE OF kind, category, title, body, status, hidden,"
    "  neighbourhood_id, claimed_by, expires_at, geom, group_id ON posts"
    "  FOR EACH ROW EXECUTE FUNCTION posts_changes_trigger();"
    "CREATE TRIGGER posts_changes_ad AFTER DELETE ON posts"
    "  FOR EACH ROW EXECUTE FUNCTION posts_changes_trigger();"

    "CREATE FUNCTION shops_changes_trigger() RETURNS trigger LANGUAGE plpgsql AS $$"
    "BEGIN"
    "  IF TG_OP = 'INSERT' THEN"
    "    INSERT INTO changes(layer, ref_id, new_geom) VALUES ('shops', NEW.id, NEW.geom);"
    "  ELSIF TG_OP = 'UPDATE' THEN"
    "    INSERT INTO changes(layer, ref_id, old_geom, new_geom)"
    "    VALUES ('shops', NEW.id, OLD.geom, NEW.geom);"
    "  ELSE"
    "    INSERT INTO changes(layer, ref_id, old_geom) VALUES ('shops', OLD.id, OLD.geom);"
    "  END IF;"
    "  RETURN NULL;"
    "END $$;"
    "CREATE TRIGGER shops_changes_ai AFTER INSERT ON shops"
    "  FOR EACH ROW EXECUTE FUNCTION shops_changes_trigger();"
    "CREATE TRIGGER shops_changes_au AFTER UPDATE OF name, shop, brand, opening_hours, status,"
    "  delivers, takeaway, gift_cards, confirmed_at, geom ON shops"
    "  FOR EACH ROW EXECUTE FUNCTION shops_changes_trigger();"
    "CREATE TRIGGER shops_changes_ad AFTER DELETE ON shops"
    "  FOR EACH ROW EXECUTE FUNCTION shops_changes_trigger();"

    "CREATE FUNCTION makers_changes_trigger() RETURNS trigger LANGUAGE plpgsql AS $$"
    "BEGIN"
    "  IF TG_OP = 'INSERT' THEN"
    "    INSERT INTO changes(layer, ref_id, new_geom) VALUES ('makers', NEW.member_id, NEW.geom);"
    "  ELSIF TG_OP = 'UPDATE' THEN"
    "    INSERT INTO changes(layer, ref_id, old_geom, new_geom)"
    "    VALUES ('makers', NEW.member_id, OLD.geom, NEW.geom);"
    "  ELSE"
    "    INSERT INTO changes(layer, ref_id, old_geom) VALUES ('makers', OLD.member_id, OLD.geom);"
    "  END IF;"
    "  RETURN NULL;"
    "END $$;"
    "CREATE TRIGGER makers_changes_ai AFTER INSERT ON makers"
    "  FOR EACH ROW EXECUTE FUNCTION makers_changes_trigger();"
    "CREATE TRIGGER makers_changes_au AFTER UPDATE OF capacity_per_day, stock, materials, geom"
    "  ON makers FOR EACH ROW EXECUTE FUNCTION makers_changes_trigger();"
    "CREATE TRIGGER makers_changes_ad AFTER DELETE ON makers"
    "  FOR EACH ROW EXECUTE FUNCTION makers_changes_trigger();"
    "CREATE INDEX posts_expiry ON posts(expires_at);"

    /* ---- 6: the change feed tells of neighbourhoods (ref_id 0: no rowid) ---- */
    "CREATE FUNCTION neighbourhoods_changes_trigger() RETURNS trigger LANGUAGE plpgsql AS $$"
    "BEGIN"
    "  INSERT INTO changes(layer, ref_id) VALUES ('neighbourhoods', 0);"
    "  RETURN NULL;"
    "END $$;"
    "CREATE TRIGGER neighbourhoods_changes_ai AFTER INSERT ON neighbourhoods"
    "  FOR EACH ROW EXECUTE FUNCTION neighbourhoods_changes_trigger();"
    "CREATE TRIGGER neighbourhoods_changes_au AFTER UPDATE OF name, label_lon, label_lat, geom"
    "  ON neighbourhoods FOR EACH ROW EXECUTE FUNCTION neighbourhoods_changes_trigger();"
    "CREATE TRIGGER neighbourhoods_changes_ad AFTER DELETE ON neighbourhoods"
    "  FOR EACH ROW EXECUTE FUNCTION neighbourhoods_changes_trigger();"

    /* ---- 7: the private conversation of a claimed post ---- */
    "CREATE TABLE post_messages ("
    "  id         bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  post_id    bigint NOT NULL REFERENCES posts(id) ON DELETE CASCADE,"
    "  claimer_id bigint NOT NULL REFERENCES members(id) ON DELETE CASCADE,"
    "  author_id  bigint NOT NULL REFERENCES members(id) ON DELETE CASCADE,"
    "  body       text NOT NULL CHECK (length(body) BETWEEN 1 AND 2000),"  /* characters */
    "  created_at bigint NOT NULL"
    ");"
    "CREATE INDEX post_messages_thread ON post_messages(post_id, claimer_id, id);"

    /* ---- 8: shop claims; password resets ---- */
    "CREATE TABLE shop_claims ("
    "  id         bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  shop_id    bigint NOT NULL REFERENCES shops(id) ON DELETE CASCADE,"
    "  member_id  bigint NOT NULL REFERENCES members(id) ON DELETE CASCADE,"
    "  note       text NOT NULL DEFAULT '' CHECK (length(note) <= 500),"
    "  status     text NOT NULL DEFAULT 'pending'"
    "             CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn')),"
    "  created_at bigint NOT NULL,"
    "  decided_at bigint,"
    "  decided_by bigint REFERENCES members(id) ON DELETE SET NULL"
    ");"
    "CREATE UNIQUE INDEX shop_claims_pending ON shop_claims(shop_id, member_id) WHERE status = 'pending';"
    "CREATE INDEX shop_claims_member ON shop_claims(member_id, id);"
    "CREATE INDEX shop_claims_status ON shop_claims(status, id);"
    "CREATE TABLE password_resets ("
    "  id         bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  member_id  bigint NOT NULL UNIQUE REFERENCES members(id) ON DELETE CASCADE,"
    "  token_hash bytea NOT NULL UNIQUE,"
    "  token      text,"
    "  created_at bigint NOT NULL,"
    "  expires_at bigint NOT NULL"
    ");"

    /* ---- 9: street centrelines, and the communes waiting for theirs ---- */
    "CREATE TABLE streets ("
    "  id    bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  insee text NOT NULL,"
    "  name  text NOT NULL,"
    "  part  bigint NOT NULL,"
    "  geom  geometry(LineString, 4326) NOT NULL,"
    "  UNIQUE (insee, name, part)"
    ");"
    "CREATE INDEX idx_streets_geom ON streets USING gist (geom);"
    "CREATE TABLE streets_pending (insee text PRIMARY KEY);"
    "CREATE FUNCTION addresses_streets_trigger() RETURNS trigger LANGUAGE plpgsql AS $$"
    "BEGIN"
    "  INSERT INTO streets_pending(insee) VALUES (OLD.insee), (NEW.insee) ON CONFLICT DO NOTHING;"
    "  RETURN NULL;"
    "END $$;"
    /* Inserts (an import's hundreds of thousands of rows) and deletes list
     * their communes once per statement, from the statement's rows. */
    "CREATE FUNCTION addresses_streets_added() RETURNS trigger LANGUAGE plpgsql AS $$"
    "BEGIN"
    "  INSERT INTO streets_pending(insee) SELECT DISTINCT insee FROM added"
    "    ON CONFLICT DO NOTHING;"
    "  RETURN NULL;"
    "END $$;"
    "CREATE FUNCTION addresses_streets_removed() RETURNS trigger LANGUAGE plpgsql AS $$"
    "BEGIN"
    "  INSERT INTO streets_pending(insee) SELECT DISTINCT insee FROM removed"
    "    ON CONFLICT DO NOTHING;"
    "  RETURN NULL;"
    "END $$;"
    "CREATE TRIGGER addresses_streets_ai AFTER INSERT ON addresses"
    "  REFERENCING NEW TABLE AS added FOR EACH STATEMENT"
    "  EXECUTE FUNCTION addresses_streets_added();"
    "CREATE TRIGGER addresses_streets_au AFTER UPDATE OF number, rep, street, insee, geom"
    "  ON addresses FOR EACH ROW WHEN (OLD.number IS DISTINCT FROM NEW.number"
    "  OR OLD.rep IS DISTINCT FROM NEW.rep OR OLD.street IS DISTINCT FROM NEW.street"
    "  OR OLD.insee IS DISTINCT FROM NEW.insee OR OLD.geom IS DISTINCT FROM NEW.geom)"
    "  EXECUTE FUNCTION addresses_streets_trigger();"
    "CREATE TRIGGER addresses_streets_ad AFTER DELETE ON addresses"
    "  REFERENCING OLD TABLE AS removed FOR EACH STATEMENT"
    "  EXECUTE FUNCTION addresses_streets_removed();"
    "CREATE FUNCTION streets_changes_trigger() RETURNS trigger LANGUAGE plpgsql AS $$"
    "BEGIN"
    "  IF TG_OP = 'DELETE' THEN"
    "    INSERT INTO changes(layer, ref_id) VALUES ('streets', OLD.id);"
    "  ELSE"
    "    INSERT INTO changes(layer, ref_id) VALUES ('streets', NEW.id);"
    "  END IF;"
    "  RETURN NULL;"
    "END $$;"
    "CREATE TRIGGER streets_changes_ai AFTER INSERT ON streets"
    "  FOR EACH ROW EXECUTE FUNCTION streets_changes_trigger();"
    "CREATE TRIGGER streets_changes_au AFTER UPDATE OF insee, name, geom ON streets"
    "  FOR EACH ROW EXECUTE FUNCTION streets_changes_trigger();"
    "CREATE TRIGGER streets_changes_ad AFTER DELETE ON streets"
    "  FOR EACH ROW EXECUTE FUNCTION streets_changes_trigger();"

    /* ---- 10: when a post was done (the column is in posts above) ---- */
    "CREATE INDEX posts_created ON posts(created_at);"

    /* ---- 11: groups (above) and comments ---- */
    "CREATE INDEX posts_group ON posts(group_id, id) WHERE group_id IS NOT NULL;"
    "CREATE TABLE comments ("
    "  id         bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  post_id    bigint NOT NULL REFERENCES posts(id) ON DELETE CASCADE,"
    "  author_id  bigint REFERENCES members(id) ON DELETE SET NULL,"
    "  body       text NOT NULL CHECK (octet_length(body) BETWEEN 1 AND 4000),"  /* bytes */
    "  created_at bigint NOT NULL,"
    "  edited_at  bigint,"
    "  hidden     bigint NOT NULL DEFAULT 0"
    ");"
    "CREATE INDEX comments_post ON comments(post_id, id);"
    "CREATE TABLE comment_reports ("
    "  id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  comment_id  bigint NOT NULL REFERENCES comments(id) ON DELETE CASCADE,"
    "  reporter_id bigint NOT NULL REFERENCES members(id) ON DELETE CASCADE,"
    "  reason      text NOT NULL DEFAULT '',"
    "  created_at  bigint NOT NULL DEFAULT unixepoch(),"
    "  UNIQUE (comment_id, reporter_id)"
    ");"
    "CREATE TABLE comments_fts ("
    "  rowid bigint PRIMARY KEY,"              /* comments.id */
    "  fts   tsvector NOT NULL"
    ");"
    "CREATE INDEX comments_fts_words ON comments_fts USING gin (fts);"
    /* comments_ai, comments_ad, comments_au: the words, the post's count of
     * visible comments, and a change-feed entry naming the post. */
    "CREATE FUNCTION comments_trigger() RETURNS trigger LANGUAGE plpgsql AS $$"
    "BEGIN"
    "  IF TG_OP = 'INSERT' THEN"
    "    INSERT INTO comments_fts(rowid, fts) VALUES (NEW.id,"
    "      to_tsvector('simple', translate(unaccent(NEW.body), '<>', '  ')));"
    "    UPDATE posts SET comment_count = comment_count + 1 WHERE id = NEW.post_id AND NEW.hidden = 0;"
    "    INSERT INTO changes(layer, ref_id) VALUES ('comments', NEW.post_id);"
    "  ELSIF TG_OP = 'DELETE' THEN"
    "    DELETE FROM comments_fts WHERE rowid = OLD.id;"
    "    UPDATE posts SET comment_count = comment_count - 1 WHERE id = OLD.post_id AND OLD.hidden = 0;"
    "    INSERT INTO changes(layer, ref_id) VALUES ('comments', OLD.post_id);"
    "  ELSE"
    "    DELETE FROM comments_fts WHERE rowid = OLD.id;"
    "    INSERT INTO comments_fts(rowid, fts) VALUES (NEW.id,"
    "      to_tsvector('simple', translate(unaccent(NEW.body), '<>', '  ')));"
    "    UPDATE posts SET comment_count = comment_count + OLD.hidden - NEW.hidden"
    "    WHERE id = NEW.post_id;"
    "    INSERT INTO changes(layer, ref_id) VALUES ('comments', NEW.post_id);"
    "  END IF;"
    "  RETURN NULL;"
    "END $$;"
    "CREATE TRIGGER comments_ai AFTER INSERT ON comments"
    "  FOR EACH ROW EXECUTE FUNCTION comments_trigger();"
    "CREATE TRIGGER comments_ad AFTER DELETE ON comments"
    "  FOR EACH ROW EXECUTE FUNCTION comments_trigger();"
    "CREATE TRIGGER comments_au AFTER UPDATE OF body, hidden ON comments"
    "  FOR EACH ROW EXECUTE FUNCTION comments_trigger();"

    /* ---- 12: alerts by email ---- */
    "CREATE TABLE subscriptions ("
    "  id            bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  member_id     bigint NOT NULL REFERENCES members(id) ON DELETE CASCADE,"
    "  kinds         text NOT NULL,"
    "  categories    text NOT NULL DEFAULT '',"
    "  radius_m      bigint CHECK (radius_m BETWEEN 50 AND 5000),"
    "  polygon       text,"                    /* GeoJSON Polygon, EPSG:4326 */
    "  area          geometry(Geometry, 4326),"/* the same as a geometry */
    "  mode          text NOT NULL CHECK (mode IN ('immediate', 'digest')),"
    "  quiet_start   bigint CHECK (quiet_start BETWEEN 0 AND 1439),"
    "  quiet_end     bigint CHECK (quiet_end BETWEEN 0 AND 1439),"
    "  created_at    bigint NOT NULL,"
    "  cursor        bigint NOT NULL,"         /* changes.seq considered up to */
    "  paused_at     bigint,"
    "  paused_reason text,"
    "  failures      bigint NOT NULL DEFAULT 0,"
    "  CHECK ((radius_m IS NULL) <> (area IS NULL))"
    ");"
    "CREATE INDEX subscriptions_member ON subscriptions(member_id);"
    "CREATE TABLE alert_deliveries ("
    "  id              bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  subscription_id bigint REFERENCES subscriptions(id) ON DELETE SET NULL,"
    "  member_id       bigint NOT NULL REFERENCES members(id) ON DELETE CASCADE,"
    "  post_id         bigint REFERENCES posts(id) ON DELETE SET NULL,"
    "  type            text NOT NULL CHECK (type IN ('post', 'item', 'digest', 'test')),"
    "  digest_id       bigint REFERENCES alert_deliveries(id) ON DELETE SET NULL,"
    "  status          text NOT NULL DEFAULT 'pending'"
    "                  CHECK (status IN ('pending', 'sent', 'failed', 'retrying', 'dropped')),"
    "  attempts        bigint NOT NULL DEFAULT 0,"
    "  next_attempt_at bigint NOT NULL,"
    "  last_error      text,"
    "  distance_m      double precision,"
    "  created_at      bigint NOT NULL,"
    "  sent_at         bigint,"
    "  UNIQUE (subscription_id, post_id)"
    ");"
    "CREATE INDEX alert_deliveries_due ON alert_deliveries(next_attempt_at)"
    "  WHERE status IN ('pending', 'retrying');"
    "CREATE INDEX alert_deliveries_member ON alert_deliveries(member_id, id);"
    "CREATE INDEX alert_deliveries_digest ON alert_deliveries(digest_id) WHERE digest_id IS NOT NULL;"
    "CREATE TABLE secrets ("
    "  name  text PRIMARY KEY,"
    "  value bytea NOT NULL"
    ");"

    /* ---- 13: members' private feed tokens ---- */
    "CREATE TABLE feed_tokens ("
    "  member_id  bigint PRIMARY KEY REFERENCES members(id) ON DELETE CASCADE,"
    "  token_hash bytea NOT NULL UNIQUE,"
    "  created_at bigint NOT NULL"
    ");"

    /* ---- PostgreSQL only: rate limits shared by every replica
     * (domain/rate_limits.c). A SQLite store has one serving process, which
     * keeps its buckets in memory. UNLOGGED: a crash forgets them, which
     * only refills every bucket. ---- */
    "CREATE UNLOGGED TABLE rate_limits ("
    "  bucket  text PRIMARY KEY,"              /* NAME:KEY, e.g. auth:192.0.2.1 */
    "  tokens  double precision NOT NULL,"
    "  at      double precision NOT NULL,"     /* Unix seconds of the last take */
    "  allowed integer NOT NULL"               /* whether the last take got a token */
    ");"
    "CREATE INDEX rate_limits_at ON rate_limits(at);";
