using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Web;
using GroupPay.Testing;

namespace GroupPay.EndToEnd.Tests;

/// <summary>
/// One user's WeChat browser: its own cookies, following the OAuth redirects through the sandbox's authorize page
/// the way the page's link would, and paying through the sandbox cashier in place of WeixinJSBridge.
/// </summary>
public sealed class Browser : IDisposable
{
    private readonly HttpClient _http;
    private readonly Uri _sandbox;

    public Browser(Uri gateway, Uri sandbox)
    {
        _sandbox = sandbox;
        _http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() })
        {
            BaseAddress = gateway,
        };
        _http.DefaultRequestHeaders.Accept.ParseAdd("application/json");
    }

    public string? Openid { get; private set; }

    /// <summary>The browser's client (its cookies), for requests of a test's own.</summary>
    public HttpClient Http => _http;

    /// <summary>Signs in as <paramref name="openid"/>: gateway → WeChat authorize (the user picks themselves) →
    /// gateway callback with the code → session cookie.</summary>
    public async Task SignInAsync(string openid, string returnUrl = "/")
    {
        using var login = await _http.GetAsync($"/auth/login?returnUrl={Uri.EscapeDataString(returnUrl)}");
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        var authorize = login.Headers.Location!;
        Assert.StartsWith(new Uri(_sandbox, "/connect/oauth2/authorize").ToString(), authorize.ToString(), StringComparison.Ordinal);

        var confirm = new UriBuilder(new Uri(_sandbox, "/connect/oauth2/authorize/confirm")) { Query = authorize.Query.TrimStart('?') + "&openid=" + Uri.EscapeDataString(openid) }.Uri;
        using var picked = await _http.GetAsync(confirm);
        Assert.Equal(HttpStatusCode.Redirect, picked.StatusCode);
        var callback = picked.Headers.Location!;

        using var signedIn = await _http.GetAsync(callback);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal(returnUrl, signedIn.Headers.Location!.OriginalString);
        Openid = openid;
    }

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await _http.GetAsync(path);
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public async Task<(HttpStatusCode Status, JsonElement Body)> PostJsonAsync(string path, object body)
    {
        using var response = await _http.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    public async Task<(HttpStatusCode Status, JsonElement Body)> PutJsonAsync(string path, object body, string adminKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, path) { Content = JsonContent.Create(body) };
        request.Headers.Add("X-Admin-Key", adminKey);
        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>Starts paying (own slot, or <paramref name="slot"/> on behalf) and confirms at the cashier.</summary>
    public async Task<string> PayAsync(string groupId, int? slot = null, string? referralCode = null)
    {
        var payment = await StartPaymentAsync(groupId, slot, referralCode);
        await ConfirmAtCashierAsync(payment);
        return payment.GetProperty("outTradeNo").GetString()!;
    }

    /// <summary><c>POST /api/groups/{id}/pay</c>: the payment the page would hand to WeixinJSBridge.</summary>
    public async Task<JsonElement> StartPaymentAsync(string groupId, int? slot = null, string? referralCode = null)
    {
        var (status, payment) = await PostJsonAsync($"/api/groups/{groupId}/pay", new { slot, @ref = referralCode });
        Assert.True(status == HttpStatusCode.OK, $"pay: {(int)status} {payment}");
        return payment;
    }

    /// <summary>The user confirms <paramref name="payment"/> in the sandbox cashier (WeixinJSBridge's stand-in).</summary>
    public async Task ConfirmAtCashierAsync(JsonElement payment)
    {
        using var cashier = new HttpClient { BaseAddress = _sandbox };
        using var paid = await SandboxServer.PayAtCashierAsync(cashier, payment.GetProperty("jsapi"), Openid ?? throw new InvalidOperationException("Sign in first."));
        Assert.True(paid.IsSuccessStatusCode, $"cashier: {await paid.Content.ReadAsStringAsync()}");
    }

    public static string? QueryValue(Uri uri, string name) => HttpUtility.ParseQueryString(uri.Query)[name];

    public void Dispose() => _http.Dispose();
}
