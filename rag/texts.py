"""Every interface string in German and English: the answers' fixed sentences, the terminal's, the chat's and
the articles panel's. Plain dicts that import nothing, so rag/ and ui/ take them from here (`ui.texts` adds
Gradio's translated labels and picks the visitor's language).
"""

from __future__ import annotations

# What an answer says instead of, or besides, the articles' sentences; in the language of the question.
REFUSAL = {
    "de": "In den Artikeln steht dazu nichts.",
    "en": "The articles don't say.",
}
FALLBACK = {
    "de": "Das Sprachmodell ist nicht erreichbar ({error}); hier die Antwort aus den Artikeln selbst.",
    "en": "The language model is unreachable ({error}); here is the answer taken from the articles.",
}
CUT_SHORT = {
    "de": "Die Antwort brach ab, weil das Sprachmodell nicht mehr antwortete ({error}).",
    "en": "The answer was cut short because the language model stopped responding ({error}).",
}

# The index cannot be searched; said to people, while the log gets the reason.
INDEX_DAMAGED = {
    "de": "Der Index ist beschädigt und muss neu aufgebaut werden: `rag index --rebuild`.",
    "en": "The index is damaged and needs to be rebuilt: `rag index --rebuild`.",
}

# The terminal (rag ask/chat) speaks to German and English users at once.
TERMINAL = {
    "prompt": "Frage eingeben (leere Zeile oder Strg-D beendet) / ask a question (empty line quits):",
    "unsupported": "ohne Beleg / unsupported",
    "undated": "undated",
}

# Labels Gradio translates in the browser (`ui.texts.I18N`): German for German browsers, English for all others.
LABELS = {
    "de": {
        "title": "Fragen an die Artikel",
        "question": "Frage",
        "placeholder": "Frage auf Deutsch oder Englisch, z. B. Welche Länder hielten Manöver ab?",
        "ask": "Fragen",
        "clear": "Neues Gespräch",
        "generator": "Antwort-Generator",
        "examples": "Beispiele",
        "chat": "Antworten mit Quellen",
        "articles": "Artikel",
        "refresh": "Liste aktualisieren",
    },
    "en": {
        "title": "Ask the articles",
        "question": "Question",
        "placeholder": "Ask in German or English, e.g. Which countries held maneuvers?",
        "ask": "Ask",
        "clear": "New conversation",
        "generator": "Answer generator",
        "examples": "Examples",
        "chat": "Answers with sources",
        "articles": "Articles",
        "refresh": "Refresh list",
    },
}

# Strings the server renders (status line, sources panel, errors); "related" heads a refusal's passages.
TEXT = {
    "de": {
        "ready": "Bereit: {chunks} Abschnitte aus {articles} Artikeln.",
        "sources": "Quellen",
        "related": "Vielleicht verwandt:",
        "unsupported": "Ohne Beleg in den Quellen:",
        "no_sources": "Noch keine Quellen.",
        "link": "Artikel öffnen",
        "known": "Der Assistent kennt diese Artikel:",
        "known_hint": "Die Quellen jeder Antwort erscheinen hier.",
        "quoted": "Zitiert aus den deutschen Artikeln:",
        "empty": "Die Frage ist leer. Bitte eine Frage eingeben, z. B. „Welche Länder hielten Manöver ab?“",
        "too_long": "Die Frage ist {n} Zeichen lang; erlaubt sind {limit}. Bitte kürzer fragen.",
        "failed": "Darauf konnte gerade keine Antwort erstellt werden. Bitte noch einmal oder mit einem anderen "
        "Antwort-Generator versuchen.",
        "index_down": "Der Index ist gerade nicht erreichbar. Bitte in ein paar Sekunden noch einmal versuchen.",
    },
    "en": {
        "ready": "Ready: {chunks} passages from {articles} articles.",
        "sources": "Sources",
        "related": "Maybe related:",
        "unsupported": "Not supported by the sources:",
        "no_sources": "No sources yet.",
        "link": "open article",
        "known": "The assistant knows these articles:",
        "known_hint": "The sources of each answer appear here.",
        "quoted": "Quoted from the German articles:",
        "empty": "The question is empty. Type a question, e.g. “Which countries held maneuvers?”",
        "too_long": "The question is {n} characters long; the limit is {limit}. Please ask a shorter one.",
        "failed": "No answer could be made just now. Please try again or choose another answer generator.",
        "index_down": "The index cannot be reached right now. Please try again in a few seconds.",
    },
}

# The articles panel and /api/documents: what became of each file, and the panel's labels.
DOCS = {
    "de": {
        "heading": "Artikel",
        "read_only": "Nur Ansicht: Zum Hinzufügen und Löschen den Server mit RAG_ADMIN_TOKEN=… starten "
        "und das Token hier eingeben.",
        "token": "Admin-Token",
        "choose": "Dateien (.txt, .md, .html, .pdf; bis {size} je Datei, höchstens {count} auf einmal)",
        "upload": "Hochladen",
        "refresh": "Liste aktualisieren",
        "delete": "Löschen",
        "title": "Titel",
        "outlet": "Medium",
        "date": "Datum",
        "chunks": "Abschnitte",
        "none": "Noch keine Artikel im Index.",
        "sending": "Wird hochgeladen … {p} %",
        "indexing": "Wird indexiert …",
        "deleting": "Wird gelöscht …",
        "deleted": "„{name}“ wurde gelöscht.",
        "added": "„{name}“: aufgenommen ({chunks} Abschnitte).",
        "name": "„{name}“: Dieser Dateiname ist nicht erlaubt (keine Ordnerangaben, kein Punkt am Anfang, "
        "höchstens 150 Zeichen).",
        "type": "„{name}“: Dieser Dateityp wird nicht angenommen; erlaubt sind {types}.",
        "size": "„{name}“: Die Datei ist zu groß; erlaubt sind höchstens {size}.",
        "empty": "„{name}“: Die Datei ist leer.",
        "exists": "„{name}“: Es gibt schon einen Artikel „{detail}“. Bitte die Datei umbenennen "
        "(bestehende Artikel werden nie überschrieben).",
        "unreadable": "„{name}“: Die Datei konnte nicht gelesen werden: {detail}",
        "duplicate": "„{name}“: Derselbe Text ist schon als Artikel „{detail}“ im Index.",
        "busy": "„{name}“: Gerade läuft eine andere Indexierung. Bitte gleich noch einmal versuchen.",
        "failed": "„{name}“: Die Indexierung ist fehlgeschlagen; bestehende Artikel sind unverändert.",
        "count": "Zu viele Dateien auf einmal ({n}); höchstens {count} pro Upload.",
        "request_size": "Die Anfrage ist zu groß; erlaubt sind höchstens {count} Dateien zu je {size}.",
        "no_length": "Die Anfrage nennt ihre Länge nicht (Content-Length fehlt).",
        "no_token": "Hinzufügen und Löschen ist abgeschaltet: Der Server wurde ohne RAG_ADMIN_TOKEN gestartet.",
        "bad_token": "Admin-Token fehlt oder ist falsch.",
        "unknown": "Einen Artikel „{name}“ gibt es nicht.",
    },
    "en": {
        "heading": "Articles",
        "read_only": "View only: to add and delete articles, start the server with RAG_ADMIN_TOKEN=… "
        "and enter the token here.",
        "token": "Admin token",
        "choose": "Files (.txt, .md, .html, .pdf; up to {size} each, at most {count} at once)",
        "upload": "Upload",
        "refresh": "Refresh list",
        "delete": "Delete",
        "title": "Title",
        "outlet": "Outlet",
        "date": "Date",
        "chunks": "Passages",
        "none": "No articles in the index yet.",
        "sending": "Uploading … {p} %",
        "indexing": "Indexing …",
        "deleting": "Deleting …",
        "deleted": "“{name}” was deleted.",
        "added": "“{name}”: added ({chunks} passages).",
        "name": "“{name}”: this file name is not allowed (no folders, no leading dot, at most 150 characters).",
        "type": "“{name}”: this file type is not accepted; allowed are {types}.",
        "size": "“{name}”: the file is too large; the limit is {size}.",
        "empty": "“{name}”: the file is empty.",
        "exists": "“{name}”: there already is an article “{detail}”. Please rename the file "
        "(existing articles are never overwritten).",
        "unreadable": "“{name}”: the file could not be read: {detail}",
        "duplicate": "“{name}”: the same text is already indexed as the article “{detail}”.",
        "busy": "“{name}”: another indexing run is in progress. Please try again shortly.",
        "failed": "“{name}”: indexing failed; the existing articles are unchanged.",
        "count": "Too many files at once ({n}); at most {count} per upload.",
        "request_size": "The request is too large; at most {count} files of {size} each are taken.",
        "no_length": "The request does not state its length (Content-Length is missing).",
        "no_token": "Adding and deleting articles is off: the server was started without RAG_ADMIN_TOKEN.",
        "bad_token": "The admin token is missing or wrong.",
        "unknown": "There is no article “{name}”.",
    },
}
