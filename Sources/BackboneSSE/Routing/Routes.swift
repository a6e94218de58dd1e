/// The routes the server answers, in one table: each is one registration, from which
/// the router dispatches, `Allow` and 405 are made, `/metrics` takes its route labels,
/// the config refuses collection names, `backbone-sse routes` prints, and a test checks
/// openapi.yaml. Literal paths come first: a collection cannot take their names.
public enum Routes {
    public static let table: [Route] = [
        Route("GET", "/healthz", SystemRoutes.health),
        Route("GET", "/livez", SystemRoutes.live),
        Route("GET", "/readyz", SystemRoutes.ready),
        Route("GET", "/metrics", SystemRoutes.metrics),
        Route("GET", "/openapi.yaml", SystemRoutes.openAPI),
        Route("GET", "/events", StreamRoutes.events),
        Route("GET", "/backbone-sse.js", SystemRoutes.clientLibrary),
        Route("POST", "/auth/ticket", AuthRoutes.ticket),
        Route("POST", "/auth/dev-token", AuthRoutes.devToken),
        Route("GET", "/{collection}", CollectionRoutes.list),
        Route("POST", "/{collection}", CollectionRoutes.create),
        Route("GET", "/{collection}/{id}", CollectionRoutes.read),
        Route("PUT", "/{collection}/{id}", CollectionRoutes.replace),
        Route("PATCH", "/{collection}/{id}", CollectionRoutes.patch),
        Route("DELETE", "/{collection}/{id}", CollectionRoutes.delete),
    ]

    /// Names no collection may take: the literal paths of the table.
    public static let reservedNames: Set<String> = Set(table.compactMap(\.template.reservedName))
}
