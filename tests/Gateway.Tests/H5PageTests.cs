using System.Net;
using System.Text.RegularExpressions;

namespace GroupPay.Gateway.Tests;

/// <summary>The H5 app (h5/, built into the gateway's wwwroot by its build): one page for each of the app's routes, the same
/// page with 404 for any other path (the app shows its 404 page), its hashed assets, and the sandbox cashier's address.</summary>
[Collection(GatewayCollection.Name)]
public sealed partial class H5PageTests(GatewayFixture fixture)
{
    [Theory]
    [InlineData("/")]
    [InlineData("/g/abcdef123456?ref=abcd2345")]
    [InlineData("/orders")]
    [InlineData("/rewards")]
    [InlineData("/signin-problem?code=invalid-state")]
    public async Task TheAppIsServedForEachOfItsRoutes(string path)
    {
        using var response = await fixture.Anonymous.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        AssertIsTheApp(response, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/nosuchpage")]
    [InlineData("/g/DoesNotExist")]
    [InlineData("/g/abc")]
    [InlineData("/g/abcdef123456/extra")]
    public async Task AnyOtherPathIsTheAppWith404NeverJson(string path)
    {
        using var response = await fixture.Anonymous.GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        AssertIsTheApp(response, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/api/nosuch")]
    [InlineData("/admin/nosuch")]
    [InlineData("/auth/nosuch")]
    public async Task AnUnknownApiPathStaysAProblem(string path)
    {
        using var response = await fixture.Anonymous.GetAsync(path);

        await Json.ProblemAsync(response, HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task TheAppsScriptsStylesAndImagesAreServedFromTheGatewayItself()
    {
        using var page = await fixture.Anonymous.GetAsync("/");
        var html = await page.Content.ReadAsStringAsync();
        var assets = AssetPattern().Matches(html).Select(m => m.Groups["path"].Value).ToList();
        Assert.Contains(assets, a => a.EndsWith(".js", StringComparison.Ordinal));
        Assert.Contains(assets, a => a.EndsWith(".css", StringComparison.Ordinal));

        foreach (var asset in assets.Append("/images/demo-peach.svg"))
        {
            using var response = await fixture.Anonymous.GetAsync(asset);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{asset}: {(int)response.StatusCode}");
            var expected = Path.GetExtension(asset) switch { ".js" => "text/javascript", ".css" => "text/css", _ => "image/svg+xml" };
            Assert.Equal(expected, response.Content.Headers.ContentType?.MediaType);
        }
        using var missing = await fixture.Anonymous.GetAsync("/assets/missing-0000.js");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task TheAppsFilesAreSentCompressedButApiAnswersAreNot()
    {
        using var handler = new HttpClientHandler { AutomaticDecompression = System.Net.DecompressionMethods.None, UseCookies = false };
        using var client = new HttpClient(handler) { BaseAddress = fixture.GatewayUrl };
        client.DefaultRequestHeaders.AcceptEncoding.ParseAdd("gzip, br");
        using var plain = await fixture.Anonymous.GetAsync("/");
        var script = AssetPattern().Matches(await plain.Content.ReadAsStringAsync())
            .Select(m => m.Groups["path"].Value).First(a => a.EndsWith(".js", StringComparison.Ordinal));

        using var asset = await client.GetAsync(script);
        using var api = await client.GetAsync("/h5/config");

        Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
        Assert.Contains(asset.Content.Headers.ContentEncoding, e => e is "br" or "gzip");
        Assert.Equal(HttpStatusCode.OK, api.StatusCode);
        Assert.Empty(api.Content.Headers.ContentEncoding);
    }

    [Fact]
    public async Task ThePageLearnsWhereTheSandboxCashierAndWxStandInAre()
    {
        using var response = await fixture.Anonymous.GetAsync("/h5/config");

        var config = await Json.ReadAsync(response, HttpStatusCode.OK);
        Assert.Equal(new Uri(fixture.SandboxUrl, "/sandbox/cashier").ToString(), config.GetProperty("sandboxCashierUrl").GetString());
        Assert.Equal(new Uri(fixture.SandboxUrl, "/jssdk/jweixin.js").ToString(), config.GetProperty("jsSdkScriptUrl").GetString());
    }

    private static void AssertIsTheApp(HttpResponseMessage response, string html)
    {
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<div id=\"app\"></div>", html, StringComparison.Ordinal);
        Assert.Contains("lang=\"zh-CN\"", html, StringComparison.Ordinal);
        Assert.Matches(AssetPattern(), html);
        Assert.DoesNotContain("//cdn", html, StringComparison.OrdinalIgnoreCase);
    }

    [GeneratedRegex("(?:src|href)=\"(?<path>/assets/[^\"]+\\.(?:js|css))\"")]
    private static partial Regex AssetPattern();
}
