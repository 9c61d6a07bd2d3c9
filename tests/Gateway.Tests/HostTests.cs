using System.Net;

namespace GroupPay.Gateway.Tests;

/// <summary>Health and the error shape of the host itself.</summary>
[Collection(GatewayCollection.Name)]
public sealed class HostTests(GatewayFixture fixture)
{
    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    public async Task HealthEndpointsAreHealthy(string path)
    {
        using var response = await fixture.Anonymous.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AnUnknownApiPathIsAProblem()
    {
        using var response = await fixture.Anonymous.GetAsync("/api/nothing-here");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
