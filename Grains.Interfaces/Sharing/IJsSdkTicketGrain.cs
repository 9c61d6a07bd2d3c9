namespace GroupPay.Grains.Sharing;

/// <summary>A JS-SDK ticket and when WeChat stops accepting it.</summary>
[GenerateSerializer, Immutable, Alias("grouppay.JsSdkTicket")]
public sealed record JsSdkTicket([property: Id(0)] string Ticket, [property: Id(1)] DateTimeOffset ExpiresAt);

/// <summary>
/// The official account's <c>jsapi_ticket</c> for the whole cluster (key 0): one activation holds the access token and
/// the ticket for their 7200 s and fetches them one at a time, so gateways never race each other to WeChat (each new
/// access token retires the previous one). In memory only: a new activation fetches afresh.
/// </summary>
[Alias("grouppay.IJsSdkTicketGrain")]
public interface IJsSdkTicketGrain : IGrainWithIntegerKey
{
    /// <summary>A ticket valid for a while yet (refreshed ahead of its expiry). Throws
    /// <see cref="WeChatUnavailableException"/> when there is none and WeChat cannot give one now.</summary>
    [Alias("GetAsync")]
    Task<JsSdkTicket> GetAsync();
}
