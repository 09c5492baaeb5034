"""The live operations view: ``smartcity live``.

One Kafka consumer per server process (:mod:`.feed`, on its own thread) folds the raw topics, the
window topic and the alerts topic into the live picture (:mod:`.state`, pure), keeps it in SurrealDB
(:mod:`.store`) and fans changes out to browsers over Server-Sent Events (:mod:`.hub`). The page
(:mod:`.page`) draws the network from the city model, with no tile server and no CDN.
"""
