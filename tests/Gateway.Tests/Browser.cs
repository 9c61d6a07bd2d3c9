using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace GroupPay.Gateway.Tests;

/// <summary>A browser as far as the gateway can tell: its own cookie jar, redirects seen rather than followed.</summary>
public sealed class Browser : IDisposable
{
    public Browser(Uri gateway)
    {
        Http = new HttpClient(new HttpClientHandler { CookieContainer = Cookies, UseCookies = true, AllowAutoRedirect = false })
        {
            BaseAddress = gateway,
        };
    }

    /// <summary>Cookies are per host, not per port: the same jar signs in on every gateway on 127.0.0.1.</summary>
    public CookieContainer Cookies { get; } = new();

    public HttpClient Http { get; }

    public string Openid { get; set; } = "";

    /// <summary>Starts a sign-in at <c>/auth/login</c>, picks <paramref name="openid"/> on the sandbox's page, and follows
    /// the redirect back to <c>/auth/callback</c>; the callback's answer.</summary>
    public async Task<HttpResponseMessage> AuthorizeAsync(string returnUrl, string openid)
    {
        using var login = await Http.GetAsync("/auth/login?returnUrl=" + Uri.EscapeDataString(returnUrl));
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        using var confirm = await Http.GetAsync(ConfirmUrl(login.Headers.Location!, openid));
        Assert.Equal(HttpStatusCode.Redirect, confirm.StatusCode);
        return await Http.GetAsync(confirm.Headers.Location!);
    }

    /// <summary>What the sandbox's authorize page links to when the user picks <paramref name="openid"/>.</summary>
    public static Uri ConfirmUrl(Uri authorize, string openid) => new UriBuilder(authorize)
    {
        Path = "/connect/oauth2/authorize/confirm",
        Query = authorize.Query.TrimStart('?') + "&openid=" + Uri.EscapeDataString(openid),
        Fragment = "",
    }.Uri;

    public Task<HttpResponseMessage> GetAsync(string path) => Http.GetAsync(path);

    public Task<HttpResponseMessage> PostJsonAsync(string path, object? body) =>
        body is null ? Http.PostAsync(path, null) : Http.PostAsJsonAsync(path, body);

    /// <summary>GET, expecting 200 JSON.</summary>
    public async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await Http.GetAsync(path);
        return await Json.ReadAsync(response, HttpStatusCode.OK);
    }

    /// <summary>Starts a group in <paramref name="campaignId"/>; its JSON (201 asserted).</summary>
    public async Task<JsonElement> CreateGroupAsync(string campaignId, string? referralCode = null)
    {
        using var response = await PostJsonAsync("/api/groups", new { campaignId, @ref = referralCode });
        return await Json.ReadAsync(response, HttpStatusCode.Created);
    }

    /// <summary>Starts a payment (200 asserted): own slot without <paramref name="slot"/>, else on behalf.</summary>
    public async Task<JsonElement> PayAsync(string groupId, int? slot = null, string? referralCode = null)
    {
        using var response = await PayResponseAsync(groupId, slot, referralCode);
        return await Json.ReadAsync(response, HttpStatusCode.OK);
    }

    public Task<HttpResponseMessage> PayResponseAsync(string groupId, int? slot = null, string? referralCode = null) =>
        slot is null && referralCode is null
            ? PostJsonAsync($"/api/groups/{groupId}/pay", null)
            : PostJsonAsync($"/api/groups/{groupId}/pay", new { slot, @ref = referralCode });

    public void Dispose() => Http.Dispose();
}

internal static class Json
{
    public static async Task<JsonElement> ReadAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"Expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Asserts a problem-details answer with <paramref name="status"/> and <paramref name="code"/>.</summary>
    public static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"Expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement.Clone();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.Equal(code, problem.GetProperty("code").GetString());
        return problem;
    }

    public static string[] PropertyNames(this JsonElement element) => [.. element.EnumerateObject().Select(p => p.Name)];
}
