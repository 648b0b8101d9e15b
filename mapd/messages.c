/*
 * mapd/messages.c — what the server says to people, in their language.
 *
 * The server's messages are written once, in English, where they arise
 * (mapd's handlers, geodata's errors). A problem document's title and detail
 * go through mapd_message() on their way out: when the request prefers
 * French (Accept-Language), the English text is looked up in the catalogue
 * below and its French sent instead; anything not in the catalogue goes out
 * in English, as before. The page sends its own language with every request.
 *
 * A catalogue entry is an English pattern and its French. In the pattern,
 * "{}" stands for any text (a field name, a number, a status); in the French,
 * "{1}", "{2}"… put those texts back, in any order. A text that is itself a
 * known word (a post's status, an order's) is put back translated.
 *
 * Matching is literal and leftmost: the pattern's first piece must start the
 * text, its last piece end it, and each piece between is found after the
 * previous one. Work: O(entries × text length) for one message, only ever on
 * an error path; no allocation. A text longer than MAPD_MESSAGE_MAX, or a
 * French that would not fit the caller's buffer, is left in English rather
 * than cut.
 */
#include <string.h>
#include <strings.h>

#include "http.h"

typedef struct entry { const char *en, *fr; } entry;

static const entry catalogue[] = {
    /* statuses of a problem document */
    { "Bad Request", "Requête incorrecte" },
    { "Unauthorized", "Non connecté" },
    { "Forbidden", "Interdit" },
    { "Not Found", "Introuvable" },
    { "Method Not Allowed", "Méthode non permise" },
    { "Conflict", "Conflit" },
    { "Content Too Large", "Contenu trop volumineux" },
    { "URI Too Long", "Adresse trop longue" },
    { "Unsupported Media Type", "Type de contenu non pris en charge" },
    { "Unprocessable Content", "Contenu refusé" },
    { "Too Many Requests", "Trop de requêtes" },
    { "Service Unavailable", "Service indisponible" },
    { "Insufficient Storage", "Espace de stockage insuffisant" },
    { "Internal Server Error", "Erreur du serveur" },

    /* sessions and accounts */
    { "log in first", "Connectez-vous d’abord." },
    { "log in to see needs; anonymous visitors get counts at /api/stats",
      "Connectez-vous pour voir les besoins ; les visiteurs anonymes voient les nombres (/api/stats)." },
    { "wrong email or password", "Adresse ou mot de passe incorrect." },
    { "too many attempts from this address; wait a minute",
      "Trop de tentatives depuis cette adresse ; attendez une minute." },
    { "too many attempts for this account; try again in a few minutes, or reset the password",
      "Trop de tentatives pour ce compte ; réessayez dans quelques minutes, ou réinitialisez le mot de passe." },
    { "the server has too many connections open; try again in a moment",
      "Le serveur a trop de connexions ouvertes ; réessayez dans un instant." },
    { "the query has more than {} arguments", "L’adresse a plus de {1} paramètres." },
    { "missing or wrong X-CSRF-Token header (the value returned at login)",
      "Votre session a expiré ou n’est plus valable : reconnectez-vous." },
    { "'{}' must have at least {} characters", "Le mot de passe doit compter au moins {2} caractères." },
    { "'password' is not the current password", "Mot de passe actuel incorrect." },
    { "cannot hash the password now; try again",
      "Le mot de passe ne peut pas être enregistré maintenant ; réessayez." },
    { "'email' is not an email address", "Ce n’est pas une adresse électronique." },
    { "this email is already registered", "Cette adresse électronique a déjà un compte." },
    { "'display_name' is empty", "Le nom affiché est vide." },
    { "give 'display_name', 'new_password' or 'address'",
      "Indiquez un nom, un nouveau mot de passe ou une adresse." },
    { "staff accounts are removed by an administrator",
      "Un compte de l’équipe est supprimé par un administrateur." },
    { "this link is unknown, already used or expired",
      "Ce lien ne fonctionne plus : il a déjà servi, a été remplacé ou a expiré." },
    { "no such member", "Ce compte n’existe pas." },
    { "no such session", "Cette session n’existe pas." },

    /* roles */
    { "this is for staff", "Réservé à l’équipe de modération." },
    { "staff only", "Réservé à l’équipe de modération." },
    { "reported=1 is for staff", "Réservé à l’équipe de modération (reported=1)." },
    { "this needs an account with the shop role", "Réservé aux comptes de commerçant." },
    { "shop claims are for shop accounts and staff",
      "Réservé aux comptes de commerçant et à l’équipe de modération." },
    { "only members claim needs", "Seuls les membres prennent en charge des besoins." },

    /* addresses */
    { "address not found", "Adresse introuvable." },
    { "address not recognised with confidence", "Adresse reconnue sans certitude." },
    { "ambiguous address", "Adresse ambiguë : plusieurs adresses correspondent." },
    { "address outside every neighbourhood", "Adresse hors de tous les quartiers du service." },
    { "address in a town or postcode outside the area the service covers",
      "Adresse dans une commune ou un code postal que le service ne couvre pas." },
    { "this house number is not in the address base",
      "Ce numéro n’est pas dans la base d’adresses." },
    { "'address': the query is empty", "L’adresse est vide." },
    { "'address': the query holds control characters", "L’adresse contient des caractères de contrôle." },
    { "'address': the query is longer than 512 bytes", "L’adresse dépasse 512 octets." },
    { "'address': the query is not valid UTF-8", "L’adresse n’est pas en UTF-8 valide." },
    { "'address': cannot be searched", "Cette adresse ne peut pas être cherchée." },
    { "the address could not be searched now; try again",
      "L’adresse ne peut pas être cherchée maintenant ; réessayez." },
    { "give the address in q", "Indiquez l’adresse dans q." },
    { "q is at most 200 bytes", "q compte au plus 200 octets." },
    { "q cannot be searched", "q ne peut pas être cherché." },

    /* posts */
    { "no such post", "Cette annonce n’existe pas ou ne vous est pas visible." },
    { "'title' is empty", "Le titre est vide." },
    { "'body' is empty", "Le message est vide." },
    { "give 'title' or 'body' to change", "Indiquez le titre ou le texte à changer." },
    { "'kind' is request or offer", "Le type est « demande » ou « offre »." },
    { "kind is request or offer", "Le type est « demande » ou « offre »." },
    { "unknown category", "Catégorie inconnue." },
    { "'category' is one of {}", "Catégorie inconnue (une de : {1})." },
    { "one cannot claim one's own post", "Vous ne pouvez pas prendre en charge votre propre annonce." },
    { "this post was claimed by someone else", "Quelqu’un d’autre vient de prendre en charge cette annonce." },
    { "this post is {} and cannot be claimed", "Cette annonce est {1} : elle ne peut plus être prise en charge." },
    { "this post is {}, not claimed", "Cette annonce est {1}, pas prise en charge." },
    { "this post is {}", "Cette annonce est {1}." },
    { "this post changed meanwhile", "Cette annonce a changé entre-temps ; rechargez-la." },
    { "only the author can edit a post", "Seule la personne qui a publié l’annonce peut la modifier." },
    { "only an open post can be edited (this one is {})",
      "Seule une annonce ouverte peut être modifiée (celle-ci est {1})." },
    { "only the volunteer who claimed a post can hand it back",
      "Seul le bénévole qui a pris l’annonce en charge peut la rendre." },
    { "nobody has claimed this post: there is no conversation yet",
      "Personne n’a encore pris cette annonce en charge : pas encore de conversation." },
    { "the post was handed back or claimed again meanwhile",
      "L’annonce a été rendue ou reprise en charge entre-temps." },
    { "a message has 1 to {} bytes", "Un message compte de 1 à {1} octets." },
    { "the keywords hold no word", "Les mots-clés ne contiennent aucun mot." },
    { "more than {} posts match: narrow the query", "Plus de {1} annonces correspondent : précisez la recherche." },
    { "status is open, claimed, done, cancelled, expired or any",
      "L’état est open, claimed, done, cancelled, expired ou any." },

    /* shops */
    { "no such shop", "Ce commerce n’existe pas." },
    { "no such shop claim", "Cette demande n’existe pas." },
    { "this shop already has an owner", "Ce commerce a déjà un commerçant." },
    { "this claim was already {}", "Cette demande a déjà été {1}." },
    { "the note has more than {} bytes", "La note dépasse {1} octets." },
    { "only the shop's owner can change its status", "Seul le commerçant peut changer l’état de ce commerce." },
    { "a shop that is closed neither delivers nor does takeaway",
      "Un commerce fermé ne livre pas et ne fait pas de vente à emporter." },
    { "a shop that is delivery_only delivers and does no takeaway",
      "Un commerce en livraison seulement livre et ne fait pas de vente à emporter." },
    { "a shop that is takeaway_only does takeaway and does not deliver",
      "Un commerce en vente à emporter seulement ne livre pas." },
    { "'status' is open, closed, delivery_only or takeaway_only",
      "L’état est ouvert, fermé, livraison seulement ou à emporter seulement." },
    { "status is unknown, open, closed, delivery_only or takeaway_only",
      "L’état est unknown, open, closed, delivery_only ou takeaway_only." },
    { "'opening_hours' is neither OSM opening_hours syntax nor hours written like \"lun-sam 9h-19h\": {}",
      "Horaires non compris : écrivez-les par exemple « lun-sam 9h-19h » ou « Mo-Sa 09:00-19:00 »." },

    /* makers and orders */
    { "no such maker", "Ce fabricant de masques n’existe pas ou ne vous est pas visible." },
    { "no such order", "Cette commande n’existe pas." },
    { "one cannot order from oneself", "Vous ne pouvez pas vous commander des masques." },
    { "only the maker changes an order's status", "Seul le fabricant change l’état d’une commande." },
    { "an order that is {} cannot become {}", "Une commande {1} ne peut pas devenir {2}." },
    { "this order changed meanwhile", "Cette commande a changé entre-temps ; rechargez." },
    { "'status' is accepted, ready, delivered or declined",
      "L’état est acceptée, prête, livrée ou refusée." },
    { "at most {} materials", "Au plus {1} matériaux." },
    { "'materials' is a list of at most 10 strings", "Au plus 10 matériaux, chacun un texte." },
    { "each material is a string of 1 to 40 bytes on one line",
      "Chaque matériau tient sur une ligne, de 1 à 40 octets." },

    /* fields of a request body */
    { "'{}' is required", "Le champ « {1} » est obligatoire." },
    { "'{}' is empty", "Le champ « {1} » est vide." },
    { "'{}' must be a string", "Le champ « {1} » doit être un texte." },
    { "'{}' is longer than {} bytes", "Le champ « {1} » dépasse {2} octets." },
    { "'{}' holds control characters", "Le champ « {1} » contient des caractères de contrôle." },
    { "'{}' must be true or false", "Le champ « {1} » vaut true ou false." },
    { "'{}' must be an integer from {} to {}", "Le champ « {1} » est un nombre entier de {2} à {3}." },
    { "{} is an integer from {} to {}", "{1} est un nombre entier de {2} à {3}." },

    /* the request itself */
    { "send the body as application/json", "Envoyez le corps en application/json." },
    { "the request has no body", "La requête n’a pas de corps." },
    { "the body is not valid JSON: {} (at byte {})", "Le corps n’est pas du JSON valide (octet {2})." },
    { "the body must be a JSON object", "Le corps doit être un objet JSON." },
    { "the body is larger than {} bytes", "Le corps dépasse {1} octets." },
    { "the path is too long", "Le chemin est trop long." },
    { "no such page", "Page introuvable." },
    { "no such resource", "Ressource introuvable." },
    /* OGC API – Features (ogc.c, ogc_items.c, ogc_crs.c) */
    { "no such collection", "Collection introuvable." },
    { "no such feature", "Objet introuvable." },
    { "this collection is for members: log in first", "Cette collection est réservée aux membres : connectez-vous d’abord." },
    { "'{}' is not a parameter of this resource", "« {1} » n’est pas un paramètre de cette ressource." },
    { "'{}' is given more than once", "« {1} » est donné plusieurs fois." },
    { "'{}' must be json (the only format served)", "« {1} » doit valoir json (le seul format servi)." },
    { "limit must be a whole number from 1 (at most 10000 are returned)", "limit doit être un nombre entier à partir de 1 (10000 objets au plus sont renvoyés)." },
    { "offset must be a whole number from 0 to 100000000", "offset doit être un nombre entier de 0 à 100000000." },
    { "bbox must be 4 numbers (minimums, then maximums, in bbox-crs) or 6 (with heights)", "bbox doit compter 4 nombres (les minimums puis les maximums, dans bbox-crs) ou 6 (avec les hauteurs)." },
    { "bbox is out of range: longitudes within 180, latitudes within 90", "bbox sort des limites : longitudes entre -180 et 180, latitudes entre -90 et 90." },
    { "bbox must have its minimums first: west,south,east,north", "bbox donne d’abord ses minimums : ouest,sud,est,nord." },
    { "datetime must be an RFC 3339 date-time (2020-04-01T10:00:00Z), or an interval start/end where an open end is ..", "datetime doit être une date RFC 3339 (2020-04-01T10:00:00Z) ou un intervalle début/fin dont une borne ouverte s’écrit .." },
    { "datetime: the interval ends before it starts", "datetime : l’intervalle finit avant de commencer." },
    { "crs is not offered: use {}", "Ce crs n’est pas proposé : utilisez {1}." },
    { "bbox-crs is not offered: use {}", "Ce bbox-crs n’est pas proposé : utilisez {1}." },
    { "{} must be one of {}", "{1} doit valoir l’une de ces valeurs : {2}." },
    { "this method is not allowed on this resource", "Cette méthode n’est pas permise ici." },
    { "near is LON,LAT in degrees", "near s’écrit LON,LAT en degrés." },
    { "radius is metres, more than 0 and at most {}", "radius est en mètres, plus de 0 et au plus {1}." },
    { "radius needs near=LON,LAT", "radius demande near=LON,LAT." },
    { "give near or bbox, not both", "Indiquez near ou bbox, pas les deux." },
    { "bbox is WEST,SOUTH,EAST,NORTH in degrees", "bbox s’écrit OUEST,SUD,EST,NORD en degrés." },
    { "bbox covers too large an area: zoom in", "La zone est trop grande : rapprochez-vous." },
    { "bbox must have west < east and south < north", "bbox demande ouest < est et sud < nord." },
    { "bbox is out of range (longitudes within 180, latitudes within 90)",
      "bbox sort des limites (longitudes entre -180 et 180, latitudes entre -90 et 90)." },
    { "mine is 1 or 0", "mine vaut 1 ou 0." },
    /* paging (paging.c and the lists) */
    { "offset is at most {}: page further with {}=ID (the next_{} of each page)",
      "offset vaut au plus {1} : continuez avec {2}=ID (le next_{3} de chaque page)." },
    { "give offset or {}, not both", "Indiquez offset ou {1}, pas les deux." },
    { "{} names no post you can see: start again without it",
      "{1} ne désigne aucune annonce que vous voyez : recommencez sans lui." },
    { "a list by distance (near) pages with after=ID, not before",
      "Une liste par distance (near) se parcourt avec after=ID, pas before." },
    { "a list newest first pages with before=ID; after=ID goes with near=LON,LAT",
      "Une liste des plus récentes se parcourt avec before=ID ; after=ID va avec near=LON,LAT." },
    { "as is requester or maker", "as vaut requester ou maker." },
    { "{} is 1 or 0", "{1} vaut 1 ou 0." },
    { "the query parameter '{}' is not valid UTF-8", "Le paramètre « {1} » n’est pas en UTF-8 valide." },
    { "the query parameter '{}' holds a NUL byte (%00)", "Le paramètre « {1} » contient un octet nul (%00)." },
    { "a query parameter's name is not valid UTF-8", "Le nom d’un paramètre n’est pas en UTF-8 valide." },
    { "a query parameter's name holds a NUL byte (%00)", "Le nom d’un paramètre contient un octet nul (%00)." },
    { "autocomplete is 0 or 1", "autocomplete vaut 0 ou 1." },
    /* statistics (api_stats.c) */
    { "since is a date YYYY-MM-DD", "La date de début (since) s’écrit AAAA-MM-JJ." },
    { "until is a date YYYY-MM-DD", "La date de fin (until) s’écrit AAAA-MM-JJ." },
    { "since must not be after until",
      "La date de début (since) ne peut pas suivre la date de fin (until)." },
    { "the window from since to until is at most {} days long",
      "La période de since à until dure au plus {1} jours." },
    { "format is json or csv", "format vaut json ou csv." },
    { "table goes with format=csv", "table ne s’emploie qu’avec format=csv." },
    { "table is needs, neighbourhoods, shops or open_posts",
      "table vaut needs, neighbourhoods, shops ou open_posts." },
    { "more than {} figures in this window: ask for fewer days (since, until)",
      "Plus de {1} chiffres sur cette période : demandez moins de jours (since, until)." },
    /* exports and the audit log (api_export.c, geodata/read/export.c) */
    { "unknown parameter '{}' (known: {})", "Paramètre inconnu « {1} » (connus : {2})." },
    { "give layer: one of {}", "Indiquez la couche (layer) : {1}." },
    { "give format: one of {}", "Indiquez le format : {1}." },
    { "crs is EPSG:4326 or EPSG:2154", "crs vaut EPSG:4326 ou EPSG:2154." },
    { "background is 0 or 1", "background vaut 0 ou 1." },
    { "{} is a date (YYYY-MM-DD) or an RFC 3339 time, not '{}'",
      "{1} s’écrit AAAA-MM-JJ ou comme une heure RFC 3339, pas « {2} »." },
    { "unknown layer '{}' (one of {})", "Couche inconnue « {1} » (au choix : {2})." },
    { "unknown format '{}' (one of {})", "Format inconnu « {1} » (au choix : {2})." },
    { "{} is always in EPSG:4326", "Le format {1} est toujours en EPSG:4326." },
    { "unknown {} '{}' for the {} layer", "Valeur inconnue pour {1} : « {2} » (couche {3})." },
    { "unknown neighbourhood '{}'", "Quartier inconnu « {1} »." },
    { "the {} layer has no creation date to filter on",
      "La couche {1} n’a pas de date de création : since et until ne s’y appliquent pas." },
    { "the {} layer has no {} to filter on", "La couche {1} ne se filtre pas par {2}." },
    { "too many exports are waiting; try again in a few minutes",
      "Trop d’exports en attente ; réessayez dans quelques minutes." },
    { "no such export (finished exports are removed after a while)",
      "Cet export n’existe pas (les exports terminés sont supprimés au bout d’un moment)." },
    { "this export is {}: it has no file", "Cet export n’a pas de fichier (état : {1})." },
    { "the export file cannot be read; try again",
      "Le fichier de l’export ne peut pas être lu ; réessayez." },
    { "the export file cannot be written; try again",
      "Le fichier de l’export ne peut pas être écrit ; réessayez." },
    { "a tile is /tiles/Z/X/Y.mvt with zoom 0 to 22 and X, Y below 2^zoom",
      "Une tuile s’écrit /tiles/Z/X/Y.mvt, zoom de 0 à 22, X et Y sous 2^zoom." },
    { "this tile cannot be drawn within the tile size budget",
      "Cette tuile ne peut pas être dessinée dans la taille permise." },
    { "this tile could not be drawn", "Cette tuile n’a pas pu être dessinée." },
    { "the server is short of memory; try again",
      "Le serveur manque de mémoire ; réessayez." },
    { "the database could not complete the request; try again",
      "La base de données n’a pas pu répondre ; réessayez." },
    { "the server's disk is full: this change was not saved; try again later",
      "Le disque du serveur est plein : cette modification n’a pas été enregistrée ; réessayez plus tard." },
    { "the database does not answer", "La base de données ne répond pas." },
    { "the database is unavailable for a moment; try again",
      "La base de données est indisponible pour un instant ; réessayez." },
    { "the database cannot be opened", "La base de données ne peut pas être ouverte." },

    /* groups (geodata/domain/groups.c, api_groups.c) */
    { "no such group", "Ce groupe n’existe pas." },
    { "a group's name has 1 to {} bytes", "Le nom d’un groupe compte de 1 à {1} octets." },
    { "a group's description has at most {} bytes",
      "La description d’un groupe compte au plus {1} octets." },
    { "unknown group category", "Catégorie de groupe inconnue." },
    { "'category' is one of food, environment, education, culture, sport, solidarity, health, other",
      "La catégorie est l’une de : alimentation, environnement, éducation, culture, sport, "
      "solidarité, santé, autre." },
    { "only members with a verified home in a neighbourhood create groups",
      "Seuls les membres dont l’adresse est vérifiée dans un quartier créent des groupes." },
    { "this group belongs to a neighbourhood you neither live in nor border",
      "Ce groupe appartient à un quartier où vous n’habitez pas et qui ne touche pas le vôtre." },
    { "only members with a verified home join groups",
      "Seuls les membres dont l’adresse est vérifiée rejoignent des groupes." },
    { "the group's moderators removed you from it",
      "Les modérateurs du groupe vous en ont retiré." },
    { "only the group's creator and staff moderate it",
      "Seuls le créateur du groupe et l’équipe de modération le modèrent." },
    { "a moderator leaves a group, not removes themselves from it",
      "Pour partir, quittez le groupe plutôt que de vous en retirer." },
    { "this member is not in the group", "Ce membre ne fait pas partie du groupe." },
    { "this post is not in the group", "Cette publication ne fait pas partie du groupe." },
    { "no such member in this group", "Ce membre ne fait pas partie du groupe." },
    { "no such post in this group", "Cette publication ne fait pas partie du groupe." },
    { "only the group's members post in it", "Seuls les membres du groupe y publient." },
    { "the group is still forming: it takes posts once it has enough members",
      "Le groupe est en formation : il accepte des publications une fois assez de membres réunis." },
    { "a page holds 1 to {} groups", "Une page compte de 1 à {1} groupes." },
    { "mine is 1 or 0", "mine vaut 1 ou 0." },

    /* comments (geodata/domain/comments.c, api_comments.c) */
    { "no such comment", "Ce commentaire n’existe pas." },
    { "a comment has 1 to {} bytes", "Un commentaire compte de 1 à {1} octets." },
    { "only its author changes a comment", "Seul son auteur modifie un commentaire." },
    { "a reason has at most {} bytes", "Une raison compte au plus {1} octets." },
    { "too many comments in a minute; wait a little",
      "Trop de commentaires en une minute ; patientez un peu." },
    { "give q=WORDS (or, for staff, reported=1)",
      "Indiquez des mots à chercher (q=…) ou, pour l’équipe, reported=1." },
    { "a page holds 1 to {} comments", "Une page compte de 1 à {1} commentaires." },

    /* password work (api_members.c) */
    { "too many passwords are being checked; try again in a moment",
      "Trop de mots de passe sont en cours de vérification ; réessayez dans un instant." },

    /* the live stream (events.c) */
    { "Last-Event-ID is the id of an event this stream sent: a number",
      "Last-Event-ID est le numéro d’un événement déjà reçu." },
    { "this server has no live stream (--events-max 0)",
      "Ce serveur n’a pas de flux en direct." },
    { "the server is stopping", "Le serveur s’arrête." },
    { "too many live streams are open on this server; try again later",
      "Trop de flux en direct sont ouverts sur ce serveur ; réessayez plus tard." },
    { "too many live streams are open from this address",
      "Trop de flux en direct sont ouverts depuis cette adresse." },

    /* alerts by email (api_alerts.c, subscriptions.c, alert_deliveries.c) */
    { "only members with a verified home subscribe to alerts",
      "Seuls les membres dont l’adresse est vérifiée peuvent recevoir des alertes." },
    { "'kinds' names request, offer or both",
      "Choisissez les demandes, les offres, ou les deux." },
    { "'kinds' holds an unknown kind: '{}' (request, offer)",
      "Type d’annonce inconnu : « {1} » (request ou offer)." },
    { "'categories' holds an unknown category: '{}'", "Catégorie inconnue : « {1} »." },
    { "give either 'radius_m' or 'polygon', not both",
      "Donnez un rayon ou une zone dessinée, pas les deux." },
    { "give either 'radius_m' or 'polygon', not neither",
      "Donnez un rayon ou une zone dessinée." },
    { "'radius_m' is {} to {} metres", "Le rayon va de {1} à {2} mètres." },
    { "'radius_m' is a number of metres", "Le rayon est un nombre de mètres." },
    { "'mode' is immediate or digest",
      "Le mode est immediate (à chaque annonce) ou digest (un résumé par jour)." },
    { "'quiet_hours' has both a start and an end",
      "Les heures de silence ont un début et une fin." },
    { "'quiet_hours' start and end are HH:MM, 00:00 to 23:59",
      "Les heures de silence s’écrivent HH:MM, de 00:00 à 23:59." },
    { "'quiet_hours' start and end differ",
      "Le début et la fin des heures de silence doivent différer." },
    { "'quiet_hours' is null or {\"start\": \"HH:MM\", \"end\": \"HH:MM\"}",
      "Les heures de silence sont null, ou un début (start) et une fin (end) au format HH:MM." },
    { "'{}' is an array of at most {} names", "« {1} » est une liste d’au plus {2} noms." },
    { "'{}' holds names (strings)", "« {1} » contient des noms (des textes)." },
    { "'polygon' must be a GeoJSON Polygon",
      "La zone doit être un objet GeoJSON de type Polygon." },
    { "'polygon' must be a GeoJSON Polygon: {}",
      "La zone doit être un objet GeoJSON de type Polygon." },
    { "'polygon' is not GeoJSON that can be read: {}",
      "La zone n’est pas du GeoJSON lisible : {1}" },
    { "'polygon' has {} positions: it may have 4 to {}",
      "La zone a {1} sommets : il en faut de 4 à {2}." },
    { "'polygon' has coordinates outside longitude -180..180 and latitude -90..90 "
      "(EPSG:4326, longitude first)",
      "La zone a des coordonnées hors des longitudes -180..180 et latitudes -90..90 "
      "(EPSG:4326, longitude d’abord)." },
    { "'polygon' is not a valid polygon: {}", "La zone n’est pas un polygone valide : {1}" },
    { "'polygon' is longer than {} bytes as GeoJSON",
      "La zone dépasse {1} octets en GeoJSON." },
    { "'polygon' must lie within your neighbourhood and the ones next to it",
      "La zone doit rester dans votre quartier et les quartiers voisins." },
    { "a member holds at most {} subscriptions", "Un membre a au plus {1} alertes." },
    { "no such subscription", "Cette alerte n’existe pas." },
    { "a test alert was asked less than {} seconds ago",
      "Une alerte de test a déjà été demandée il y a moins de {1} secondes." },
    { "mail is not configured on this server: no alert can be sent",
      "L’envoi de courriels n’est pas configuré sur ce serveur : aucune alerte ne peut partir." },
    { "token is the unsubscribe link's token, from the alert mail",
      "Il manque le jeton du lien de désabonnement (token)." },
    { "this unsubscribe link is not valid", "Ce lien de désabonnement n’est pas valide." },
};

/* The French of a word put back into a message, or the word itself. */
static const entry words[] = {
    { "open", "ouverte" }, { "claimed", "prise en charge" }, { "done", "terminée" },
    { "cancelled", "annulée" }, { "expired", "expirée" }, { "hidden", "masquée" },
    { "pending", "en attente" }, { "accepted", "acceptée" }, { "ready", "prête" },
    { "delivered", "livrée" }, { "declined", "refusée" },
    { "approved", "validée" }, { "rejected", "refusée" }, { "withdrawn", "retirée" },
};

/* Matches text against pattern; fills caps[i] = {start, length} for each
 * "{}" (at most MAX_CAPS). 1 on a match. */
#define MAX_CAPS 4
typedef struct span { const char *s; size_t n; } span;

static int match(const char *pattern, const char *text, span caps[MAX_CAPS], int *ncaps)
{
    const char *p = pattern, *t = text;
    *ncaps = 0;
    const char *hole = strstr(p, "{}");
    size_t lead = hole ? (size_t)(hole - p) : strlen(p);
    if (strncmp(t, p, lead) != 0)
        return 0;
    t += lead;
    p += lead;
    if (!hole)
        return *t == '\0';
    while (hole) {
        if (*ncaps == MAX_CAPS)
            return 0;
        p = hole + 2;
        hole = strstr(p, "{}");
        size_t len = hole ? (size_t)(hole - p) : strlen(p);
        const char *at;
        if (!hole) {            /* the last piece ends the text */
            size_t tl = strlen(t);
            if (tl < len || strcmp(t + tl - len, p) != 0)
                return 0;
            at = t + tl - len;
        } else {                /* a middle piece: leftmost after the capture */
            char piece[128];
            if (len == 0 || len >= sizeof piece)
                return 0;
            memcpy(piece, p, len);
            piece[len] = '\0';
            if (!(at = strstr(t, piece)))
                return 0;
        }
        caps[(*ncaps)++] = (span){ t, (size_t)(at - t) };
        t = at + len;
        p += len;
    }
    return 1;
}

/* Appends n bytes of s to out[*used..size); 0 when they do not fit. */
static int put(char *out, size_t size, size_t *used, const char *s, size_t n)
{
    if (*used + n >= size)
        return 0;
    memcpy(out + *used, s, n);
    *used += n;
    out[*used] = '\0';
    return 1;
}

/* The French of a capture: a known word translated, else as it is. */
static span word(span c)
{
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (strlen(words[i].en) == c.n && strncmp(words[i].en, c.s, c.n) == 0)
            return (span){ words[i].fr, strlen(words[i].fr) };
    return c;
}

static int render(const char *fr, const span caps[MAX_CAPS], int ncaps, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (const char *f = fr; *f;) {
        if (f[0] == '{' && f[1] >= '1' && f[1] <= '9' && f[2] == '}') {
            int i = f[1] - '1';
            if (i >= ncaps)
                return 0;
            span w = word(caps[i]);
            if (!put(out, size, &used, w.s, w.n))
                return 0;
            f += 3;
        } else if (!put(out, size, &used, f++, 1)) {
            return 0;
        }
    }
    return 1;
}

const char *mapd_message(const char *lang, const char *text, char *out, size_t size)
{
    if (!text || !lang || strcmp(lang, "fr") != 0 || strlen(text) > MAPD_MESSAGE_MAX)
        return text;
    span caps[MAX_CAPS];
    int ncaps;
    for (size_t i = 0; i < sizeof catalogue / sizeof *catalogue; i++)
        if (match(catalogue[i].en, text, caps, &ncaps))
            return render(catalogue[i].fr, caps, ncaps, out, size) ? out : text;
    return text;
}

/* The quality of a language range's parameters (";q=0.5"); 1 when absent. */
static double quality(const char *params, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++)
        if ((params[i] == 'q' || params[i] == 'Q') && params[i + 1] == '=') {
            double q = 0, scale = 1;
            int dot = 0;
            for (size_t j = i + 2; j < n; j++) {
                char c = params[j];
                if (c == '.') dot = 1;
                else if (c >= '0' && c <= '9') {
                    if (dot) { scale /= 10; q += (c - '0') * scale; }
                    else q = q * 10 + (c - '0');
                } else break;
            }
            return q > 1 ? 1 : q;
        }
    return 1;
}

const char *mapd_request_lang(mapd_ctx *ctx)
{
    const char *h = MHD_lookup_connection_value(ctx->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_LANGUAGE);
    double best = 0;
    const char *lang = "en";
    for (const char *p = h; p && *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n && (*p == ' ' || *p == '\t')) { p++; n--; }
        const char *semi = memchr(p, ';', n);
        size_t tag = semi ? (size_t)(semi - p) : n;
        double q = semi ? quality(semi, n - tag) : 1;
        int fr = tag >= 2 && strncasecmp(p, "fr", 2) == 0 && (tag == 2 || p[2] == '-');
        int en = tag >= 2 && strncasecmp(p, "en", 2) == 0 && (tag == 2 || p[2] == '-');
        if ((fr || en) && q > best) {   /* the first of equal quality wins */
            best = q;
            lang = fr ? "fr" : "en";
        }
        p = end ? end + 1 : NULL;
    }
    return lang;
}
