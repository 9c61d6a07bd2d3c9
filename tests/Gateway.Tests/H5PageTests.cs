using System.Net;

namespace GroupPay.Gateway.Tests;

/// <summary>The H5 demo page: one HTML, one script, one stylesheet, served by the gateway itself (no CDN).</summary>
[Collection(GatewayCollection.Name)]
public sealed class H5PageTests(GatewayFixture fixture)
{
    [Theory]
    [InlineData("/")]
    [InlineData("/g/abcdef123456?ref=abcd2345")]
    public async Task TheH5PageIsServed(string path)
    {
        using var response = await fixture.Anonymous.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("/app.js", html, StringComparison.Ordinal);
        Assert.DoesNotContain("//cdn", html, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("/app.js", "text/javascript")]
    [InlineData("/app.css", "text/css")]
    public async Task ThePagesScriptAndStylesAreServed(string path, string mediaType)
    {
        using var response = await fixture.Anonymous.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task ThePageLearnsWhereTheSandboxCashierIs()
    {
        using var response = await fixture.Anonymous.GetAsync("/h5/config");

        var config = await Json.ReadAsync(response, HttpStatusCode.OK);
        Assert.Equal(new Uri(fixture.SandboxUrl, "/sandbox/cashier").ToString(), config.GetProperty("sandboxCashierUrl").GetString());
    }
}
