using GroupPay.Gateway.Admin;
using Microsoft.AspNetCore.Authorization;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace GroupPay.Gateway.Infrastructure;

/// <summary>
/// The gateway's OpenAPI document (docs/api.md §1.1): every H5 (<c>/api</c>, <c>/h5</c>, <c>/auth</c>) and admin
/// (<c>/admin</c>) endpoint, at <c>/openapi/v1.json</c> in every environment unless <c>Gateway:OpenApi</c> is
/// <c>false</c>; the Scalar reference page at <c>/scalar</c> in Development only. The H5 pages and WeChat Pay's XML
/// notifies are left out (<c>ExcludeFromDescription</c>).
/// </summary>
public static class ApiDocument
{
    public const string DocumentName = "v1";

    /// <summary>Where the document is served (<c>MapOpenApi</c>'s default pattern for <see cref="DocumentName"/>).</summary>
    public const string Path = "/openapi/" + DocumentName + ".json";

    /// <summary>The Scalar reference page (Development only).</summary>
    public const string ReferencePath = "/scalar";

    /// <summary><c>false</c> stops serving the document (it describes only endpoints that are public anyway).</summary>
    public const string EnabledKey = "Gateway:OpenApi";

    internal const string Description =
        "GroupPay's H5 and admin HTTP API (docs/api.md). Errors are RFC 9457 problem details with a stable `code` " +
        "extension. /api/me and /api/groups (but reading one group) need the session cookie `grouppay.session` (sign in " +
        "through /auth/login); /admin needs the `X-Admin-Key` header. Mutations are rate limited (429 rate-limited).";

    /// <summary>The security scheme of the session cookie (<c>grouppay.session</c>, set by the sign-in).</summary>
    public const string SessionScheme = "session";

    /// <summary>The security scheme of the admin key header.</summary>
    public const string AdminKeyScheme = "adminKey";

    public static IServiceCollection AddGroupPayOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(DocumentName, options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "GroupPay gateway";
                document.Info.Version = DocumentName;
                document.Info.Description = Description;
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[SessionScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.ApiKey,
                    In = ParameterLocation.Cookie,
                    Name = "grouppay.session",
                    Description = "The session cookie the sign-in (/auth/login → /auth/callback) sets.",
                };
                document.Components.SecuritySchemes[AdminKeyScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.ApiKey,
                    In = ParameterLocation.Header,
                    Name = AdminKeyAuthenticationHandler.HeaderName,
                    Description = "The shared admin key (Gateway:AdminKey).",
                };
                return Task.CompletedTask;
            });
            // Each operation names what it needs: the admin key, a session, or nothing (anonymous).
            options.AddOperationTransformer((operation, context, _) =>
            {
                if (SchemeOf(context.Description.ActionDescriptor.EndpointMetadata) is { } scheme)
                {
                    operation.Security ??= [];
                    operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(scheme, context.Document)] = [] });
                }
                return Task.CompletedTask;
            });
        });

    /// <summary>The security scheme an endpoint's authorization metadata asks for; null when it is anonymous.</summary>
    internal static string? SchemeOf(IList<object> metadata)
    {
        if (metadata.OfType<IAllowAnonymous>().Any())
        {
            return null;
        }
        var authorize = metadata.OfType<IAuthorizeData>().ToList();
        if (authorize.Count == 0)
        {
            return null;
        }
        return authorize.Any(a => a.Policy == AdminKeyAuthenticationHandler.PolicyName) ? AdminKeyScheme : SessionScheme;
    }

    public static void MapGroupPayOpenApi(this WebApplication app)
    {
        if (app.Configuration.GetValue(EnabledKey, true))
        {
            app.MapOpenApi();
        }
        if (app.Environment.IsDevelopment())
        {
            app.MapScalarApiReference();
        }
    }

    /// <summary>Declares the problem responses an endpoint can answer (RFC 9457 <c>application/problem+json</c>).</summary>
    internal static TBuilder WithProblems<TBuilder>(this TBuilder builder, params int[] statuses)
        where TBuilder : IEndpointConventionBuilder
    {
        foreach (var status in statuses)
        {
            builder.ProducesProblem(status);
        }
        return builder;
    }

    /// <summary>The admin endpoints' problems: a bad input, no or a wrong key (404 while no key is configured), a
    /// refusal, the rate limit, the cluster away.</summary>
    internal static TBuilder WithAdminProblems<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status404NotFound,
            StatusCodes.Status409Conflict, StatusCodes.Status429TooManyRequests, StatusCodes.Status503ServiceUnavailable);
}
