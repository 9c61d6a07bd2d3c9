using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using GroupPay.Gateway.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace GroupPay.Gateway.Tests;

/// <summary>The OpenAPI document stays in step with the endpoints (docs/api.md §1.1), and the reference page is a
/// Development-only thing.</summary>
[Collection(GatewayCollection.Name)]
public sealed partial class OpenApiTests(GatewayFixture fixture)
{
    private static readonly string[] ApiPrefixes = ["/api", "/admin", "/auth", "/h5"];

    [Fact]
    public async Task TheDocumentNamesEveryApiEndpointWithItsMethodsAndNothingElse()
    {
        var mapped = MappedOperations(fixture.GatewayServices);

        using var response = await fixture.Anonymous.GetAsync(ApiDocument.Path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var documented = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var path in document.RootElement.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject().Where(o => HttpMethodNames.Contains(o.Name)))
            {
                documented.Add($"{operation.Name.ToUpperInvariant()} {path.Name}");
            }
        }
        Assert.True(mapped.Count >= 20, $"Only {mapped.Count} endpoints found: {string.Join(", ", mapped)}");
        Assert.Equal(mapped, documented);
        // The WeChat Pay notifies (XML, for WeChat alone) and the H5 pages are left out on purpose.
        Assert.DoesNotContain(documented, o => o.Contains("/wechatpay/", StringComparison.Ordinal) || o.Contains("/g/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ErrorResponsesAreProblemDetails()
    {
        using var response = await fixture.Anonymous.GetAsync(ApiDocument.Path);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        var pay = document.RootElement.GetProperty("paths").GetProperty("/api/groups/{groupId}/pay").GetProperty("post");
        Assert.Equal("PayForSlot", pay.GetProperty("operationId").GetString());
        Assert.False(string.IsNullOrWhiteSpace(pay.GetProperty("summary").GetString()));
        var conflict = pay.GetProperty("responses").GetProperty("409").GetProperty("content").GetProperty("application/problem+json");
        Assert.EndsWith("/ProblemDetails", conflict.GetProperty("schema").GetProperty("$ref").GetString(), StringComparison.Ordinal);
        Assert.True(document.RootElement.GetProperty("components").GetProperty("schemas").TryGetProperty("ProblemDetails", out _));
    }

    [Theory]
    [InlineData("/admin/stats", "get", "adminKey")]
    [InlineData("/admin/campaigns/{campaignId}", "put", "adminKey")]
    [InlineData("/api/me", "get", "session")]
    [InlineData("/api/groups", "post", "session")]
    [InlineData("/api/groups/{groupId}", "get", null)]
    [InlineData("/api/campaigns", "get", null)]
    [InlineData("/auth/login", "get", null)]
    public async Task EachOperationNamesTheCredentialItNeeds(string path, string method, string? scheme)
    {
        using var response = await fixture.Anonymous.GetAsync(ApiDocument.Path);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        var operation = document.RootElement.GetProperty("paths").GetProperty(path).GetProperty(method);
        var schemes = operation.TryGetProperty("security", out var security)
            ? security.EnumerateArray().SelectMany(r => r.EnumerateObject().Select(p => p.Name)).ToList()
            : [];
        Assert.Equal(scheme is null ? [] : [scheme], schemes);
        Assert.True(document.RootElement.GetProperty("components").GetProperty("securitySchemes").TryGetProperty("adminKey", out _));
    }

    [Theory]
    [InlineData("/scalar")]
    [InlineData("/scalar/v1")]
    public async Task TheReferencePageIsAbsentOutsideDevelopment(string path)
    {
        using var response = await fixture.Anonymous.GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        // An API-like path: a problem, not the H5 app's 404 page.
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task DevelopmentServesTheReferencePageAndTheFallbackLeavesItAlone()
    {
        var url = await fixture.StartGatewayAsync(new Dictionary<string, string?>(), environment: "Development");
        using var client = new HttpClient { BaseAddress = url };

        using var page = await client.GetAsync(ApiDocument.ReferencePath);
        using var document = await client.GetAsync(ApiDocument.Path);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("scalar", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<title>拼团</title>", html, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, document.StatusCode);
    }

    [Fact]
    public async Task TheDocumentCanBeTurnedOff()
    {
        var url = await fixture.StartGatewayAsync(new Dictionary<string, string?> { [ApiDocument.EnabledKey] = "false" });
        using var client = new HttpClient { BaseAddress = url };

        using var response = await client.GetAsync(ApiDocument.Path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    private static readonly HashSet<string> HttpMethodNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    };

    /// <summary>"METHOD /path" of every API endpoint the running gateway routes, bar those excluded from the description.</summary>
    private static SortedSet<string> MappedOperations(IServiceProvider services)
    {
        var operations = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var endpoint in services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            var path = "/" + (endpoint.RoutePattern.RawText ?? "").Trim('/');
            if (!ApiPrefixes.Any(prefix => path == prefix || path.StartsWith(prefix + "/", StringComparison.Ordinal))
                || endpoint.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>() is { ExcludeFromDescription: true })
            {
                continue;
            }
            var template = Constraint().Replace(path, "{$1}");
            foreach (var method in endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [])
            {
                operations.Add($"{method} {template}");
            }
        }
        return operations;
    }

    /// <summary><c>{name:constraint}</c> or <c>{name?}</c> as OpenAPI writes it, <c>{name}</c>.</summary>
    [GeneratedRegex(@"\{\*?([A-Za-z0-9_]+)[^}]*\}")]
    private static partial Regex Constraint();
}
