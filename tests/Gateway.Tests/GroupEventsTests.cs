using System.Net;
using System.Text.Json;

namespace GroupPay.Gateway.Tests;

/// <summary><c>GET /api/groups/{groupId}/events</c>: a <c>group</c> event at once, then one per change.</summary>
[Collection(GatewayCollection.Name)]
public sealed class GroupEventsTests(GatewayFixture fixture)
{
    [Fact]
    public async Task TheStreamSendsTheGroupAtOnceAndAgainWhenItChanges()
    {
        var campaignId = await fixture.DefineCampaignAsync(groupSize: 2);
        using var leader = await fixture.SignInAsync();
        var groupId = (await leader.CreateGroupAsync(campaignId)).GetProperty("groupId").GetString()!;
        // Guards against a hang only; nothing here measures time.
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        using var response = await leader.Http.GetAsync($"/api/groups/{groupId}/events", HttpCompletionOption.ResponseHeadersRead, guard.Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(guard.Token));
        var (name, first) = await NextEventAsync(reader, guard.Token);
        Assert.Equal("group", name);
        Assert.Equal(groupId, first.GetProperty("groupId").GetString());
        Assert.Equal("pending", first.GetProperty("status").GetString());
        Assert.Equal(0, first.GetProperty("mySlot").GetInt32());
        Assert.Equal((await leader.GetJsonAsync($"/api/groups/{groupId}")).ToString(), first.ToString());

        await fixture.PayAtCashierAsync(await leader.PayAsync(groupId), leader.Openid);

        var (nextName, next) = await NextEventAsync(reader, guard.Token);
        Assert.Equal("group", nextName);
        Assert.Equal("open", next.GetProperty("status").GetString());
        Assert.Equal("paid", next.GetProperty("slots")[0].GetProperty("status").GetString());
    }

    /// <summary>Reads one server-sent event: its <c>event:</c> name and its <c>data:</c> as JSON.</summary>
    private static async Task<(string? Name, JsonElement Data)> NextEventAsync(StreamReader reader, CancellationToken cancellationToken)
    {
        string? name = null;
        var data = new List<string>();
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Count > 0)
                {
                    return (name, JsonDocument.Parse(string.Join('\n', data)).RootElement.Clone());
                }
                continue;
            }
            if (line.StartsWith("event:", StringComparison.Ordinal))
            {
                name = line["event:".Length..].Trim();
            }
            else if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                data.Add(line["data:".Length..].TrimStart());
            }
        }
        throw new InvalidOperationException("The stream ended before an event.");
    }
}
