namespace GroupPay.Grains.Operations;

[GenerateSerializer, Alias("grouppay.OperatorItemState")]
public sealed class OperatorItemState
{
    /// <summary>The item with its last <see cref="OperatorItemRules.MaxActions"/> actions; null until raised.</summary>
    [Id(0)] public OperatorItem? Item { get; set; }
}
