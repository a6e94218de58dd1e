/// The rules of DESIGN.md §5, checked in one place before any handler touches the
/// store: whether the caller may do the request's action at all. What depends on the
/// document (owner conditions) travels on as the request's `Caller` and is applied by
/// the service inside the list's query or the write's transaction.
///
/// A refusal is 401 for an anonymous caller whom a token could help, 404 for a read of
/// one document (an id reveals nothing), and 403 otherwise.
struct Authorization: Middleware {
    let auth: AuthConfig

    func handle(_ request: RouteRequest, respond: @escaping Respond, next: @escaping Next) throws {
        guard request.method != "OPTIONS", case .route(let template, let parameters) = request.destination else {
            return next(request, respond)
        }
        let read = request.method == "GET" || request.method == "HEAD"
        switch template {
        case "/metrics":
            try require(auth.metrics, request, refusal: .forbidden("you may not read /metrics"))
        case "/events":
            for name in StreamRoutes.collectionNames(request) {
                guard let service = request.configured.services[name] else { continue }  // the handler's 404
                try require(access(service)[.read], request, refusal: .forbidden("you may not read \(name)"))
            }
        case "/{collection}":
            guard let service = parameters.collection else { break }
            if read {
                try require(access(service)[.read], request, refusal: .forbidden("you may not read \(service.name)"))
            } else if request.method == "POST" {
                try require(access(service)[.create], request, refusal: .forbidden("you may not create \(service.name)"))
            }
        case "/{collection}/{id}":
            guard let service = parameters.collection, parameters.problem == nil else { break }
            let rules = access(service)
            let name = { "\(service.name)/\(parameters.id ?? "")" }
            switch request.method {
            case "GET", "HEAD": try require(rules[.read], request, refusal: .notFound("no document \(name())"))
            // PUT updates, or creates when there is no such document: either right lets it on.
            case "PUT":
                try require(
                    AccessRules(rules[.update].rules + rules[.create].rules), request, refusal: .forbidden("you may not write \(name())"))
            case "PATCH": try require(rules[.update], request, refusal: .forbidden("you may not update \(name())"))
            case "DELETE": try require(rules[.delete], request, refusal: .forbidden("you may not delete \(name())"))
            default: break
            }
        default:
            break
        }
        next(request, respond)
    }

    private func access(_ service: CollectionService) -> CollectionAccess {
        service.config.access ?? CollectionAccess()
    }

    private func require(_ rules: AccessRules, _ request: RouteRequest, refusal: @autoclosure () -> APIError) throws {
        guard !rules.permission(for: request.identity).allowsAny else { return }
        if request.identity == nil, rules.aUserMightPass { throw Unauthenticated.noToken }
        throw refusal()
    }
}
