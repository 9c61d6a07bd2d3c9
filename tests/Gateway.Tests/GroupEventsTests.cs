using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json;

using GroupPay.Gateway.Infrastructure;

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

    [Fact]
    public async Task ManyViewersOfOneGroupShareOneWatchAndReadOnlyWhenItChanges()
    {
        // GROUPPAY_EVENT_VIEWERS=3000 for the measurement (docs/architecture.md); 60 in the suite.
        var viewers = int.TryParse(Environment.GetEnvironmentVariable("GROUPPAY_EVENT_VIEWERS"), out var asked) ? asked : 60;
        var campaignId = await fixture.DefineCampaignAsync(groupSize: 2);
        using var leader = await fixture.SignInAsync();
        var groupId = (await leader.CreateGroupAsync(campaignId)).GetProperty("groupId").GetString()!;
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        using var calls = new EventStreamCalls();
        var streams = new List<(HttpResponseMessage Response, StreamReader Reader)>();
        try
        {
            for (var i = 0; i < viewers; i++)
            {
                var response = await leader.Http.GetAsync($"/api/groups/{groupId}/events", HttpCompletionOption.ResponseHeadersRead, guard.Token);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                var reader = new StreamReader(await response.Content.ReadAsStreamAsync(guard.Token));
                streams.Add((response, reader));
                Assert.Equal("pending", (await NextEventAsync(reader, guard.Token)).Data.GetProperty("status").GetString());
            }
            var connected = calls.Snapshot();

            // An idle group: a stream that read its group every second would make 3 × 60 reads here.
            await Task.Delay(TimeSpan.FromSeconds(3), guard.Token);
            var idle = calls.Snapshot();
            await fixture.PayAtCashierAsync(await leader.PayAsync(groupId), leader.Openid);
            var changes = await Task.WhenAll(streams.Select(s => NextEventAsync(s.Reader, guard.Token)));
            var changed = calls.Snapshot();
            Console.WriteLine($"{viewers} viewers: connected {connected}, idle 3 s {idle.Reads - connected.Reads} reads and {idle.Watches - connected.Watches} watches, one change {changed.Reads - idle.Reads} reads");

            Assert.Equal(viewers, connected.Reads); // one read each to start
            Assert.InRange(connected.Watches, 1, 2); // one watch for the gateway
            Assert.Equal(0, idle.Reads - connected.Reads);
            Assert.All(changes, c => Assert.Equal("open", c.Data.GetProperty("status").GetString()));
            // One read per viewer per stored change (the pay and its notify may be one or two writes).
            Assert.InRange(changed.Reads - idle.Reads, viewers, 3 * viewers);
        }
        finally
        {
            foreach (var (response, reader) in streams)
            {
                reader.Dispose();
                response.Dispose();
            }
        }
    }

    /// <summary>The gateway's <see cref="GatewayTelemetry.GroupReadsInstrument"/>, summed by kind (every gateway of this
    /// process: the collection's tests run one at a time).</summary>
    private sealed class EventStreamCalls : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _reads;
        private long _watches;

        public EventStreamCalls()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == GatewayTelemetry.MeterName && instrument.Name == GatewayTelemetry.GroupReadsInstrument)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag.Key == "kind")
                    {
                        Interlocked.Add(ref (tag.Value as string == "watch" ? ref _watches : ref _reads), value);
                    }
                }
            });
            _listener.Start();
        }

        public (long Reads, long Watches) Snapshot() => (Interlocked.Read(ref _reads), Interlocked.Read(ref _watches));

        public void Dispose() => _listener.Dispose();
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
