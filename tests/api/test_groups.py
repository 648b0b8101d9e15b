#!/usr/bin/env python3
"""tests/api/test_groups.py MAPD SAMPLE_DIR — thematic groups and comments
against a real `mapd serve` on 127.0.0.1, on a database built from the
sample: who sees a group, joining up to the threshold, posts addressed to a
group, moderation and its audit, comments (who writes, edits, reports,
hides, searches), bad input and limits, nothing half-written, and a privacy
sweep over every response.

Neighbourhoods are chosen from the data: A has the most contiguous
neighbours, B is contiguous to A, C is neither A nor next to it.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Client as BaseClient, Database, Server, Suite, addresses_in as addresses, registered  # noqa: E402

MAPD, SAMPLE = sys.argv[1], sys.argv[2]
T = Suite()
DB = Database(MAPD, "entraide-groups.")
check, sql = T.check, DB.sql
PASSWORD = "correct horse"


class Client(BaseClient):
    def __init__(self, server, name):
        super().__init__(server, name, T)

    def login(self, email, password=PASSWORD):
        return super().login(email, password)
def member(srv, email, address, name):
    return registered(Client(srv, name), email, address, name)


def counts_consistent():
    bad_groups = sql("SELECT id FROM groups g WHERE member_count != (SELECT count(*) FROM "
                     "group_members WHERE group_id = g.id AND removed_by IS NULL)")
    bad_posts = sql("SELECT id FROM posts p WHERE comment_count != (SELECT count(*) FROM comments "
                    "WHERE post_id = p.id AND hidden = 0)")
    return bad_groups, bad_posts


def main():
    DB.run("import", "neighbourhoods", os.path.join(SAMPLE, "neighbourhoods.geojson"), "--db", DB.path)
    DB.run("import", "addresses", os.path.join(SAMPLE, "addresses.csv.gz"), "--db", DB.path)
    a = sql("SELECT a FROM neighbourhood_contiguity GROUP BY a ORDER BY count(*) DESC, a LIMIT 1")[0][0]
    b = sql("SELECT b FROM neighbourhood_contiguity WHERE a = ? ORDER BY b LIMIT 1", a)[0][0]
    near = {a} | {r[0] for r in sql("SELECT b FROM neighbourhood_contiguity WHERE a = ?", a)}
    c = sql("SELECT id FROM neighbourhoods WHERE id NOT IN (%s) ORDER BY id LIMIT 1"
            % ",".join("?" * len(near)), *near)[0][0]
    DB.run("user", "add", "--db", DB.path, "--email", "staff@example.org", "--role", "staff",
           "--password-stdin", stdin=PASSWORD + "\n")
    srv = Server(DB, "--auth-per-minute", "1000", "--comments-per-minute", "20")
    anon = Client(srv, "anonymous")
    staff = Client(srv, "staff")
    staff.login("staff@example.org")
    in_a = addresses(DB, a, 8)
    in_b = addresses(DB, b, 4)
    people = [member(srv, "a%d@example.org" % i, in_a[i], "Voisine A%d" % i) for i in range(8)]
    people += [member(srv, "b%d@example.org" % i, in_b[i], "Voisin B%d" % i) for i in range(4)]
    creator, outsider_b = people[0], people[11]
    far = member(srv, "c0@example.org", addresses(DB, c, 1)[0], "Lointaine C0")

    # ---- creating a group ----
    st, doc, _ = anon.req("POST", "/api/groups", {"name": "Compost", "category": "environment"})
    check("anonymous: 401", st == 401, st)
    st, doc, _ = creator.req("POST", "/api/groups", {"name": "Compost"}, csrf=False)
    check("no CSRF token: 403", st == 403, st)
    bad = [({"category": "environment"}, "no name"), ({"name": "", "category": "environment"}, "empty name"),
           ({"name": "   ", "category": "environment"}, "blank name"),
           ({"name": "x" * 101, "category": "environment"}, "101-byte name"),
           ({"name": "Compost", "category": "gardening"}, "unknown category"),
           ({"name": "Compost", "description": "d" * 2001, "category": "environment"}, "huge description"),
           ({"name": 12, "category": "environment"}, "a number for a name"),
           ({"name": "Com\u0007post", "category": "environment"}, "a control character in the name")]
    for body, why in bad:
        st, doc, _ = creator.req("POST", "/api/groups", body)
        check("create with %s: 422" % why, st == 422 and doc["type"], (st, doc))
    st, doc, _ = creator.req("POST", "/api/groups", raw=b'{"name": "Compost"', ctype="application/json")
    check("malformed JSON: 400", st == 400, st)
    st, doc, _ = creator.req("POST", "/api/groups", raw=b'{"name": "Com\\u0000post", "category": "food"}')
    check("a NUL in the name: 400 (not JSON this server reads)", st == 400, (st, doc))
    st, doc, _ = creator.req("POST", "/api/groups", raw=json.dumps({"name": "x", "category": "food",
                             "description": "y" * 70000}).encode())
    check("a body over the server's limit: 413", st == 413, st)
    staff_create = staff.req("POST", "/api/groups", {"name": "Sans quartier", "category": "other"})
    check("staff without a home cannot create a group: 403", staff_create[0] == 403, staff_create[:2])
    check("nothing was written by the refused creations", sql("SELECT count(*) FROM groups")[0][0] == 0)

    st, g, _ = creator.req("POST", "/api/groups", {"name": "  Compost partagé  ", "category": "environment",
                                                   "description": "Un bac à compost pour la rue."})
    check("create: 201, forming, one member (the creator), name trimmed",
          st == 201 and g["status"] == "forming" and g["member_count"] == 1 and g["name"] == "Compost partagé"
          and g["joined"] and g["moderator"] and g["neighbourhood"]["id"] == a and g["threshold"] == 10, g)
    gid = g["id"]
    check("the creation is audited",
          sql("SELECT count(*) FROM audit_log WHERE action = 'create group' AND target = ?",
              "group %d" % gid)[0][0] == 1)

    # ---- who sees it ----
    st, doc, _ = outsider_b.req("GET", "/api/groups")
    check("a member of a contiguous neighbourhood sees it in the list",
          st == 200 and [x["id"] for x in doc["groups"]] == [gid] and not doc["groups"][0]["joined"]
          and not doc["groups"][0]["moderator"], doc)
    st, doc, _ = outsider_b.req("GET", "/api/groups/%d" % gid)
    check("... and on its page", st == 200 and doc["id"] == gid and doc["creator"] == {"display_name": "Voisine A0"}, doc)
    st, doc, _ = far.req("GET", "/api/groups")
    check("a member of a distant neighbourhood does not see it", st == 200 and doc["groups"] == [], doc)
    st, doc, _ = far.req("GET", "/api/groups/%d" % gid)
    check("... its page is 404 to them", st == 404, st)
    st, doc, _ = far.req("POST", "/api/groups/%d/members" % gid)
    check("... joining it is 403", st == 403, (st, doc))
    st, doc, _ = far.req("GET", "/api/groups/%d/members" % gid)
    check("... its members are 404 to them", st == 404, st)
    st, doc, _ = anon.req("GET", "/api/groups")
    check("anonymous: the list is 401", st == 401, st)
    st, doc, _ = staff.req("GET", "/api/groups/%d" % gid)
    check("staff see it, and moderate it", st == 200 and doc["moderator"], doc)
    st, doc, _ = staff.req("POST", "/api/groups/%d/members" % gid)
    check("staff without a home do not join it (they would count as neighbours): 403", st == 403
          and sql("SELECT member_count FROM groups WHERE id = ?", gid)[0][0] == 1, (st, doc))
    fr = Client(srv, "far (fr)")
    fr.cookie, fr.csrf, fr.lang = far.cookie, far.csrf, "fr"
    st, doc, _ = fr.req("POST", "/api/groups/%d/members" % gid)
    check("... the refusal in French for a French reader",
          st == 403 and doc["detail"].startswith("Ce groupe appartient à un quartier"), doc)
    label_a = sql("SELECT label_lon, label_lat FROM neighbourhoods WHERE id = ?", a)[0]
    label_c = sql("SELECT label_lon, label_lat FROM neighbourhoods WHERE id = ?", c)[0]
    st, doc, _ = outsider_b.req("GET", "/api/groups?near=%f,%f" % label_a)
    check("near= a point of A: the group", st == 200 and [x["id"] for x in doc["groups"]] == [gid], doc)
    st, doc, _ = staff.req("GET", "/api/groups?near=%f,%f" % label_c)
    check("near= a point of C: not the group of A", st == 200 and gid not in [x["id"] for x in doc["groups"]], doc)
    st, doc, _ = staff.req("GET", "/api/groups?near=0,0")
    check("near= a point in no neighbourhood: none", st == 200 and doc["groups"] == [], doc)
    for q, why in (("near=1", "near with one number"), ("near=200,0", "near out of range"),
                   ("mine=2", "mine=2"), ("category=x", "an unknown category"),
                   ("limit=0", "limit=0"), ("limit=101", "limit=101"), ("colour=red", "an unknown argument")):
        st, doc, _ = outsider_b.req("GET", "/api/groups?" + q)
        check("list with %s: 400" % why, st == 400, (st, doc))
    st, doc, _ = outsider_b.req("GET", "/api/groups/999999")
    check("no such group: 404", st == 404, st)
    st, doc, _ = outsider_b.req("POST", "/api/groups/999999/members")
    check("joining no such group: 404", st == 404, st)

    # ---- posting while forming ----
    post = {"kind": "request", "category": "other", "title": "Qui a une fourche ?", "group": gid}
    before = sql("SELECT count(*) FROM posts")[0][0]
    st, doc, _ = creator.req("POST", "/api/posts", post)
    check("a post to a forming group: 409", st == 409, (st, doc))
    check("... and no post was written", sql("SELECT count(*) FROM posts")[0][0] == before)
    st, doc, _ = creator.req("POST", "/api/posts", dict(post, group=999999))
    check("a post to no such group: 404", st == 404, (st, doc))
    st, doc, _ = creator.req("POST", "/api/posts", dict(post, group="x"))
    check("a post with a group that is not a number: 422", st == 422, (st, doc))

    # ---- ten members ----
    for i, cl in enumerate(people[1:9], start=2):
        st, doc, _ = cl.req("POST", "/api/groups/%d/members" % gid)
        check("member %d joins: still forming" % i, st == 200 and doc["joined"] and doc["member_count"] == i
              and doc["status"] == "forming", doc)
    st, doc, _ = people[1].req("POST", "/api/groups/%d/members" % gid)
    check("joining again changes nothing", st == 200 and doc["member_count"] == 9, doc)
    st, doc, _ = people[9].req("POST", "/api/groups/%d/members" % gid)
    check("the tenth member: the group is active", st == 200 and doc["member_count"] == 10
          and doc["status"] == "active" and doc["activated_at"], doc)
    st, doc, _ = people[9].req("DELETE", "/api/groups/%d/members/me" % gid)
    check("a member leaves: nine members, still active (activation holds)",
          st == 200 and not doc["joined"] and doc["member_count"] == 9 and doc["status"] == "active", doc)
    st, doc, _ = people[9].req("DELETE", "/api/groups/%d/members/me" % gid)
    check("leaving again: 200, nothing changes", st == 200 and doc["member_count"] == 9, doc)
    st, doc, _ = people[9].req("POST", "/api/groups/%d/members" % gid)
    check("... and joins again", st == 200 and doc["member_count"] == 10, doc)
    st, doc, _ = people[1].req("GET", "/api/groups?mine=1")
    check("mine=1: the member's groups", st == 200 and [x["id"] for x in doc["groups"]] == [gid], doc)
    st, doc, _ = outsider_b.req("GET", "/api/groups?mine=1")
    check("mine=1 for a non-member: none", st == 200 and doc["groups"] == [], doc)

    # ---- posts to an active group ----
    st, p1, _ = creator.req("POST", "/api/posts", post)
    check("a member posts to the active group: 201, the post names the group",
          st == 201 and p1["properties"]["group"] == gid and p1["properties"]["comments"] == 0, (st, p1))
    st, doc, _ = outsider_b.req("POST", "/api/posts", post)
    check("a non-member posts to it: 403", st == 403, (st, doc))
    st, p2, _ = people[2].req("POST", "/api/posts", dict(post, title="Atelier compost samedi", kind="offer"))
    pid1, pid2 = p1["id"], p2["id"]
    st, doc, _ = outsider_b.req("GET", "/api/posts?group=%d" % gid)
    check("GET /api/posts?group=ID: the group's posts, newest first",
          st == 200 and [f["id"] for f in doc["features"]] == [pid2, pid1], doc)
    st, doc, _ = far.req("GET", "/api/posts?group=%d" % gid)
    check("... 404 to a distant member", st == 404, st)
    st, doc, _ = outsider_b.req("GET", "/api/posts?group=0")
    check("group=0: 400", st == 400, st)

    # ---- members and moderation ----
    st, doc, _ = outsider_b.req("GET", "/api/groups/%d/members" % gid)
    names = [m["display_name"] for m in doc["members"]]
    check("the member list: display names only, the creator marked",
          st == 200 and len(doc["members"]) == 10 and "Voisine A0" in names
          and all(set(m) == {"id", "display_name", "joined_at", "creator"} for m in doc["members"])
          and [m["creator"] for m in doc["members"]].count(True) == 1, doc)
    victim = next(m["id"] for m in doc["members"] if m["display_name"] == "Voisine A3")
    st, doc, _ = people[1].req("DELETE", "/api/groups/%d/members/%d" % (gid, victim))
    check("a member who is not the creator cannot remove another: 403", st == 403, (st, doc))
    st, doc, _ = creator.req("DELETE", "/api/groups/%d/members/%d" % (gid, victim))
    check("the creator removes a member: 200, nine members", st == 200 and doc["member_count"] == 9, doc)
    st, doc, _ = people[3].req("POST", "/api/groups/%d/members" % gid)
    check("the removed member cannot join again: 403", st == 403, (st, doc))
    st, doc, _ = people[3].req("POST", "/api/posts", post)
    check("... nor post to the group: 403", st == 403, (st, doc))
    st, doc, _ = creator.req("DELETE", "/api/groups/%d/members/%d" % (gid, victim))
    check("removing them again: 404", st == 404, (st, doc))
    st, doc, _ = creator.req("DELETE", "/api/groups/%d/members/abc" % gid)
    check("removing a member named by no number: 404", st == 404, (st, doc))
    st, doc, _ = people[2].req("DELETE", "/api/groups/%d/posts/%d" % (gid, pid2))
    check("a member cannot take a post out of the group: 403", st == 403, (st, doc))
    st, doc, _ = staff.req("DELETE", "/api/groups/%d/posts/%d" % (gid, pid2))
    check("staff take a post out of the group", st == 200, (st, doc))
    st, doc, _ = outsider_b.req("GET", "/api/posts?group=%d" % gid)
    check("... it is no longer listed with the group", [f["id"] for f in doc["features"]] == [pid1], doc)
    st, doc, _ = outsider_b.req("GET", "/api/posts/%d" % pid2)
    check("... and stays a post of its own", st == 200 and doc["properties"]["group"] is None, doc)
    st, doc, _ = staff.req("DELETE", "/api/groups/%d/posts/%d" % (gid, pid2))
    check("taking it out again: 404", st == 404, st)
    audited = {r[0] for r in sql("SELECT action FROM audit_log WHERE target = ?", "group %d" % gid)}
    check("moderation is audited", {"create group", "remove group member", "remove group post"} <= audited,
          audited)

    # ---- comments ----
    reader = outsider_b
    st, c1, _ = people[1].req("POST", "/api/posts/%d/comments" % pid1, {"body": "  J'en ai une, café équitable offert !  "})
    check("a member comments a visible post: 201 with the author's display name, trimmed",
          st == 201 and c1["body"] == "J'en ai une, café équitable offert !"
          and c1["author"] == {"display_name": "Voisine A1"} and c1["mine"], (st, c1))
    st, doc, _ = reader.req("GET", "/api/posts/%d/comments" % pid1)
    check("another member reads it", st == 200 and [x["id"] for x in doc["comments"]] == [c1["id"]]
          and not doc["comments"][0]["mine"], doc)
    st, doc, _ = reader.req("GET", "/api/posts?group=%d" % gid)
    check("the post's comment count, in a list", doc["features"][0]["properties"]["comments"] == 1, doc)
    st, doc, _ = reader.req("GET", "/api/posts?near=%f,%f&radius=5000" % label_a)
    f = [x for x in doc["features"] if x["id"] == pid1]
    check("... in a list from the read model", f and f[0]["properties"]["comments"] == 1, f)
    st, doc, _ = reader.req("GET", "/api/posts/%d" % pid1)
    check("... and on the post", doc["properties"]["comments"] == 1, doc)
    st, doc, _ = far.req("POST", "/api/posts/%d/comments" % pid1, {"body": "Bonjour"})
    check("a distant member cannot comment: 404", st == 404, st)
    st, doc, _ = far.req("GET", "/api/posts/%d/comments" % pid1)
    check("... nor read the comments: 404", st == 404, st)
    for body, why in (({"body": ""}, "an empty body"), ({"body": " \n\t "}, "a blank body"),
                      ({"body": "x" * 4001}, "4,001 bytes"), ({}, "no body"), ({"body": ["x"]}, "a list")):
        st, doc, _ = reader.req("POST", "/api/posts/%d/comments" % pid1, body)
        check("a comment with %s: 422" % why, st == 422, (st, doc))
    st, doc, _ = reader.req("POST", "/api/posts/999999/comments", {"body": "x"})
    check("a comment on no such post: 404", st == 404, st)
    st, c2, _ = reader.req("POST", "/api/posts/%d/comments" % pid1, {"body": "é" * 2000})
    check("4,000 bytes (2,000 é) are accepted", st == 201 and c2["body"] == "é" * 2000, st)
    st, doc, _ = reader.req("PATCH", "/api/comments/%d" % c1["id"], {"body": "pas le mien"})
    check("editing someone else's comment: 403", st == 403, (st, doc))
    st, doc, _ = reader.req("DELETE", "/api/comments/%d" % c1["id"])
    check("deleting someone else's comment: 403", st == 403, (st, doc))
    st, doc, _ = people[1].req("PATCH", "/api/comments/%d" % c1["id"], {"body": "Une fourche et une bêche"})
    check("the author edits their comment", st == 200 and doc["body"] == "Une fourche et une bêche"
          and doc["edited_at"], doc)
    st, doc, _ = reader.req("DELETE", "/api/comments/%d" % c2["id"])
    check("the author deletes their comment", st == 200 and doc == {"id": c2["id"], "deleted": True}, doc)
    st, doc, _ = reader.req("PATCH", "/api/comments/%d" % c2["id"], {"body": "x"})
    check("a deleted comment: 404", st == 404, st)

    # search: accent- and case-insensitive, only what the viewer sees
    st, doc, _ = reader.req("GET", "/api/comments?q=BECHE")
    check("search finds the comment without its accents, with its post",
          st == 200 and [x["id"] for x in doc["comments"]] == [c1["id"]]
          and doc["comments"][0]["post"] == {"id": pid1, "title": "Qui a une fourche ?"}, doc)
    st, doc, _ = far.req("GET", "/api/comments?q=beche")
    check("a distant member's search does not find it", st == 200 and doc["comments"] == [], doc)
    for q, why in (("", "no q"), ("q=%20%2B", "q with no word"), ("q=x&limit=0", "limit=0")):
        st, doc, _ = reader.req("GET", "/api/comments?" + q)
        check("comment search with %s: 400" % why, st == 400, (st, doc))
    st, doc, _ = reader.req("GET", "/api/comments?reported=1")
    check("the reported queue is for staff: 403", st == 403, st)

    # reports and hiding
    st, doc, _ = reader.req("POST", "/api/comments/%d/report" % c1["id"], {"reason": "hors sujet"})
    check("a member reports a comment: 201", st == 201, (st, doc))
    st, doc, _ = staff.req("GET", "/api/comments?reported=1")
    check("staff see it in the reported queue", st == 200 and [x["id"] for x in doc["comments"]] == [c1["id"]]
          and doc["comments"][0]["reports"] == 1, doc)
    st, doc, _ = reader.req("POST", "/api/comments/%d/hide" % c1["id"])
    check("a member cannot hide a comment: 403", st == 403, st)
    st, doc, _ = staff.req("POST", "/api/comments/%d/hide" % c1["id"])
    check("staff hide it", st == 200 and doc["hidden"], doc)
    st, doc, _ = reader.req("GET", "/api/posts/%d/comments" % pid1)
    check("a hidden comment is gone for other members", st == 200 and doc["comments"] == [], doc)
    st, doc, _ = reader.req("GET", "/api/posts/%d" % pid1)
    check("... and not counted", doc["properties"]["comments"] == 0, doc)
    st, doc, _ = reader.req("GET", "/api/comments?q=beche")
    check("... nor found", doc["comments"] == [], doc)
    st, doc, _ = people[1].req("GET", "/api/posts/%d/comments" % pid1)
    check("its author still sees it, marked hidden", [x["hidden"] for x in doc["comments"]] == [True], doc)
    st, doc, _ = reader.req("POST", "/api/comments/%d/report" % c1["id"])
    check("reporting a hidden comment one cannot see: 404", st == 404, st)
    st, doc, _ = staff.req("POST", "/api/comments/%d/restore" % c1["id"])
    check("staff restore it", st == 200 and not doc["hidden"], doc)
    st, doc, _ = reader.req("GET", "/api/posts/%d" % pid1)
    check("... counted again", doc["properties"]["comments"] == 1, doc)
    check("hiding and restoring are audited",
          sql("SELECT count(*) FROM audit_log WHERE target = ? AND action IN ('hide comment', "
              "'restore comment')", "comment %d" % c1["id"])[0][0] == 2)

    # rate limit: 20 a minute on this server
    codes = [reader.req("POST", "/api/posts/%d/comments" % pid1, {"body": "n°%d" % i})[0] for i in range(25)]
    check("comments beyond the member's rate get 429", 201 in codes and codes[-1] == 429, codes)
    st, doc, _ = people[4].req("POST", "/api/posts/%d/comments" % pid1, {"body": "un autre membre"})
    check("... other members are not held back", st == 201, st)

    check("counts stay true to the rows (members, comments)", counts_consistent() == ([], []),
          counts_consistent())

    # A group's lists answered from the read model: the same bytes as SQL.
    twin_srv = Server(DB, "--auth-per-minute", "1000", "--posts-model", "off")
    queries = ["/api/posts?group=%d" % gid, "/api/posts?group=%d&limit=1" % gid,
               "/api/posts?group=%d&limit=1&offset=1" % gid, "/api/posts?group=%d&status=claimed" % gid,
               "/api/posts?group=%d&kind=offer" % gid,
               "/api/posts?group=%d&near=%f,%f&radius=5000" % ((gid,) + label_a),
               "/api/posts?group=%d&bbox=%f,%f,%f,%f" % (gid, label_a[0] - 0.1, label_a[1] - 0.1,
                                                        label_a[0] + 0.1, label_a[1] + 0.1)]
    diffs = []
    for cl in (reader, creator, staff):
        twin = Client(twin_srv, cl.name + " (SQL)")
        twin.cookie, twin.csrf = cl.cookie, cl.csrf
        for q in queries:
            a, b = cl.raw("GET", q)[:2], twin.raw("GET", q)[:2]
            if a != b:
                diffs.append((cl.name, q, a[0], b[0], a[1][:150], b[1][:150]))
    check("a group's lists: read model and SQL give the same bytes (%d lists)" % (3 * len(queries)),
          not diffs, diffs[:3])
    check("the SQL twin stops cleanly", twin_srv.stop() == 0)

    # ---- a server with a threshold of 3 ----
    check("server stops cleanly", srv.stop() == 0)
    srv = Server(DB, "--auth-per-minute", "1000", "--group-threshold", "3")
    p = [Client(srv, "A%d" % i) for i in range(3)]
    for i, cl in enumerate(p):
        cl.login("a%d@example.org" % (i + 4))
    st, g3, _ = p[0].req("POST", "/api/groups", {"name": "Devoirs", "category": "education"})
    for cl in p[1:]:
        st, g3, _ = cl.req("POST", "/api/groups/%d/members" % g3["id"])
    check("--group-threshold 3: active at three members", g3["status"] == "active" and g3["threshold"] == 3, g3)
    check("server stops cleanly (threshold 3)", srv.stop() == 0)

    # ---- privacy sweep ----
    needles = ["@example.org"] + in_a + in_b
    for lon, lat in sql("SELECT home_lon, home_lat FROM members WHERE home_lon IS NOT NULL"):
        needles += ["%.5f" % lon, "%.5f" % lat]
    # A member's own login and registration answer with their own account.
    own = ("POST /api/session", "POST /api/members")
    leaks = [(label, n) for label, body in T.bodies for n in needles
             if n in body and not label.endswith(own)]
    check("privacy sweep: no email, address or home point in %d responses" % len(T.bodies), not leaks,
          leaks[:5])
    return T.finish()


if __name__ == "__main__":
    sys.exit(main())
