-- POST /todos with a fixed JSON body (the server picks the ids): each request creates
-- a new document of about 300 bytes once stored (id, _v, created, updated added).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"title":"posted by wrk: a todo of typical size, with a title long enough to make the stored document about three hundred bytes","done":false,"priority":3}'
