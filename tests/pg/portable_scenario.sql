-- tests/pg/portable_scenario.sql — writes that fire every kind of trigger
-- of the store, in SQL that both engines run unchanged (SQLite + SpatiaLite,
-- PostgreSQL + PostGIS), then a report of what the triggers did. The report
-- (every SELECT) must be the same text on both: test_schema_pg.sh
-- compares them. It runs on a store holding the Paris neighbourhoods and
-- nothing else; the report leaves out the neighbourhoods' own change-feed
-- entries, whose ref_id is a SQLite rowid (0 on PostgreSQL).

INSERT INTO members(email, password_hash, display_name, neighbourhood_id)
  VALUES ('Eloise.Martin@Example.org', 'h1', 'Éloïse', (SELECT min(id) FROM neighbourhoods));
INSERT INTO members(email, password_hash, display_name, role, neighbourhood_id)
  VALUES ('bob@example.org', 'h2', 'Bob', 'member', (SELECT min(id) FROM neighbourhoods));

INSERT INTO posts(author_id, kind, category, title, body, neighbourhood_id, expires_at, geom)
  VALUES (1, 'request', 'groceries', 'Courses à l’épicerie du quartier',
          'Besoin d''aide pour porter les sacs ; pharmacie aussi', (SELECT min(id) FROM neighbourhoods),
          unixepoch() + 86400, ST_GeomFromText('POINT(2.3412 48.8602)', 4326));
INSERT INTO posts(author_id, kind, category, title, body, neighbourhood_id, expires_at, geom)
  VALUES (2, 'offer', 'company', 'Promenade avec un chien', 'Je garde les animaux',
          (SELECT min(id) FROM neighbourhoods), unixepoch() + 86400,
          ST_GeomFromText('POINT(2.3421 48.8611)', 4326));
INSERT INTO posts(author_id, kind, category, title, body, neighbourhood_id, expires_at, geom)
  VALUES (2, 'request', 'childcare', 'Garde d''enfants mercredi', '', (SELECT min(id) FROM neighbourhoods),
          unixepoch() + 86400, ST_GeomFromText('POINT(2.3433 48.8622)', 4326));

UPDATE posts SET views = views + 1 WHERE id = 1;                       -- not in the feed
UPDATE posts SET status = 'claimed', claimed_by = 2, claimed_at = unixepoch() WHERE id = 1;
UPDATE posts SET geom = ST_GeomFromText('POINT(2.3425 48.8615)', 4326) WHERE id = 2;
UPDATE posts SET title = 'Promenade du chien Médor' WHERE id = 2;     -- new words
UPDATE posts SET hidden = hidden WHERE id = 2;                         -- set, unchanged: in the feed

INSERT INTO comments(post_id, author_id, body, created_at) VALUES (1, 2, 'Je passe à 18h', unixepoch());
INSERT INTO comments(post_id, author_id, body, created_at)
  VALUES (1, 1, 'Merci beaucoup, très gentil', unixepoch());
INSERT INTO comments(post_id, author_id, body, created_at) VALUES (1, 1, 'Quel âge a Médor ?', unixepoch());
UPDATE comments SET hidden = 1 WHERE id = 2;
UPDATE comments SET body = 'Je passe à 19h' WHERE id = 1;
DELETE FROM comments WHERE id = 3;

INSERT INTO shops(source_id, name, shop, geom)
  VALUES ('node/1', 'Boulangerie Sœur Anne', 'bakery', ST_GeomFromText('POINT(2.3401 48.8599)', 4326));
UPDATE shops SET status = 'open', delivers = 1 WHERE id = 1;
UPDATE shops SET updated_at = unixepoch() WHERE id = 1;                -- not in the feed

INSERT INTO makers(member_id, capacity_per_day, geom)
  VALUES (1, 10, ST_GeomFromText('POINT(2.3412 48.8602)', 4326));
UPDATE makers SET stock = 5 WHERE member_id = 1;
UPDATE makers SET updated_at = unixepoch() WHERE member_id = 1;        -- not in the feed

INSERT INTO addresses(source_id, number, street, postcode, insee, city, neighbourhood_id, geom)
  VALUES ('75101_8158_00001', 1, 'Rue de Rivoli', '75001', '75101', 'Paris',
          (SELECT min(id) FROM neighbourhoods), ST_GeomFromText('POINT(2.3412 48.8602)', 4326));
DELETE FROM streets_pending;
UPDATE addresses SET number = number, street = street WHERE id = 1;    -- nothing changed: not pending
SELECT 'pending after an update that changed nothing', count(*) FROM streets_pending;
INSERT INTO streets(insee, name, part, geom)
  VALUES ('75101', 'Rue de Rivoli', 0, ST_GeomFromText('LINESTRING(2.34 48.86, 2.35 48.861)', 4326));
UPDATE streets SET part = 1 WHERE id = 1;                              -- not in the feed
UPDATE streets SET name = 'Rue de Rivoli' WHERE id = 1;                -- set, unchanged: in the feed
UPDATE addresses SET insee = '75102' WHERE id = 1;                     -- both communes pending

DELETE FROM posts WHERE id = 3;
-- The cascades of one statement write their entries in an order of each
-- engine's own (PostgreSQL: constraints in creation order; SQLite: another):
-- after this mark, the report sorts the entries.
INSERT INTO changes(layer, ref_id) VALUES ('mark', 0);
DELETE FROM members WHERE id = 2;  -- cascades: their post 2 goes, post 1's claimed_by becomes NULL

-- ---- the report ----
SELECT 'change', layer, ref_id, ST_AsText(old_geom), ST_AsText(new_geom)
  FROM changes WHERE layer <> 'neighbourhoods'
  ORDER BY seq > (SELECT seq FROM changes WHERE layer = 'mark'),
           CASE WHEN seq > (SELECT seq FROM changes WHERE layer = 'mark') THEN 0 ELSE seq END,
           layer, ref_id, coalesce(ST_AsText(old_geom), ''), coalesce(ST_AsText(new_geom), '');
SELECT 'post', id, status, claimed_by, views, hidden, comment_count, title FROM posts ORDER BY id;
SELECT 'comment', id, post_id, author_id, hidden, body FROM comments ORDER BY id;
SELECT 'shop', id, status, delivers FROM shops ORDER BY id;
SELECT 'maker', member_id, stock FROM makers ORDER BY member_id;
SELECT 'pending', insee FROM streets_pending ORDER BY insee;
SELECT 'street', id, part, name FROM streets ORDER BY id;
SELECT 'email', count(*) FROM members WHERE email = 'eloise.martin@EXAMPLE.ORG';
SELECT 'recent', count(*) FROM members WHERE created_at BETWEEN unixepoch() - 600 AND unixepoch();
