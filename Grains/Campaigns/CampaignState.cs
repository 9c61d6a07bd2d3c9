namespace GroupPay.Grains.Campaigns;

[GenerateSerializer, Alias("grouppay.CampaignState")]
public sealed class CampaignState
{
    [Id(0)] public CampaignDefinition? Definition { get; set; }

    /// <summary>Reservation id → the openid it is for and whether it was sold.</summary>
    [Id(1)] public Dictionary<string, StockReservation> Reservations { get; set; } = [];
}

[GenerateSerializer, Immutable, Alias("grouppay.StockReservation")]
public sealed record StockReservation([property: Id(0)] string Openid, [property: Id(1)] bool Sold);
