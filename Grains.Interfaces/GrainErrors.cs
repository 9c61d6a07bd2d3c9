namespace GroupPay.Grains;

/// <summary>The family of refusals the grains throw and the gateway maps to ProblemDetails: each has a
/// stable <see cref="Code"/>. Nothing changed when one is thrown.</summary>
[GenerateSerializer, Alias("grouppay.GroupPayException")]
public abstract class GroupPayException : Exception
{
    protected GroupPayException(string code, string message)
        : base(message)
    {
        Code = code;
    }

    /// <summary>Stable machine-readable code (docs/api.md §12), e.g. <c>group-full</c>.</summary>
    [Id(0)]
    public string Code { get; }
}

[GenerateSerializer, Alias("grouppay.InvalidCampaignException")]
public sealed class InvalidCampaignException(string message) : GroupPayException("invalid-campaign", message);

[GenerateSerializer, Alias("grouppay.UnknownCampaignException")]
public sealed class UnknownCampaignException(string campaignId) : GroupPayException("unknown-campaign", $"Campaign '{campaignId}' does not exist.");

[GenerateSerializer, Alias("grouppay.CampaignClosedException")]
public sealed class CampaignClosedException(string message) : GroupPayException("campaign-closed", message);

[GenerateSerializer, Alias("grouppay.UnknownGroupException")]
public sealed class UnknownGroupException(string groupId) : GroupPayException("unknown-group", $"Group '{groupId}' does not exist.");

[GenerateSerializer, Alias("grouppay.GroupFullException")]
public sealed class GroupFullException() : GroupPayException("group-full", "Every slot of the group is paid or held; try again later.");

[GenerateSerializer, Alias("grouppay.TooManyAttemptsException")]
public sealed class TooManyAttemptsException(int cap) : GroupPayException("too-many-attempts", $"This slot has had {cap} payment attempts, the most one slot may have; no more can be started.");

[GenerateSerializer, Alias("grouppay.GroupClosedException")]
public sealed class GroupClosedException(string status) : GroupPayException("group-closed", $"The group is {status}.");

[GenerateSerializer, Alias("grouppay.AlreadyPaidException")]
public sealed class AlreadyPaidException() : GroupPayException("already-paid", "That slot is already paid.");

[GenerateSerializer, Alias("grouppay.OwnSlotOnBehalfException")]
public sealed class OwnSlotOnBehalfException() : GroupPayException("own-slot-on-behalf", "Pay your own slot without naming it.");

[GenerateSerializer, Alias("grouppay.InvalidRequestException")]
public sealed class InvalidRequestException(string message) : GroupPayException("invalid-request", message);

[GenerateSerializer, Alias("grouppay.PaymentProviderException")]
public sealed class PaymentProviderException(string message) : GroupPayException("payment-provider", message);

/// <summary>A notify that must not be applied: unknown attempt, amount or payer differing from the attempt.
/// The gateway answers FAIL; nothing changed.</summary>
[GenerateSerializer, Alias("grouppay.NotifyRejectedException")]
public sealed class NotifyRejectedException(string message) : GroupPayException("notify-rejected", message);

[GenerateSerializer, Alias("grouppay.UnknownOperatorItemException")]
public sealed class UnknownOperatorItemException(string itemId) : GroupPayException("unknown-item", $"Operator item '{itemId}' does not exist.");

/// <summary>A WeChat API other than payment (the official account's token or ticket) cannot answer now.</summary>
[GenerateSerializer, Alias("grouppay.WeChatUnavailableException")]
public sealed class WeChatUnavailableException(string message) : GroupPayException("wechat-unavailable", message);
