# ruff: noqa: I001
# The course tutorial's complete program (section 7.1 of
# the course tutorial, "linear regression from scratch with PyTorch"), copied as it is, so that
# scripts/bench.py can time it as a whole process. Two changes, both marked "bench:":
# matplotlib's Agg backend, and each plt.show() replaced by saving the figure (fit.png,
# loss.png in the working directory) and closing it, as closing the window would.
# Everything else, the SimHei font request and its warnings included, is the tutorial's.
import torch
from sklearn.datasets import make_regression
import matplotlib
matplotlib.use("Agg")  # bench: no window
import matplotlib.pyplot as plt
import random

# 设置 Matplotlib 支持中文
plt.rcParams['font.sans-serif'] = ['SimHei']  # 用来正常显示中文标签
plt.rcParams['axes.unicode_minus'] = False  # 用来正常显示负号


# 数据集生成函数
def create_dataset():
    """
    使用 make_regression 生成线性回归数据集,并转换为 PyTorch 张量。
    """
    x, y, coef = make_regression(
        n_samples=120,  # 样本数量,即数据点个数
        n_features=1,  # 每个样本只有一个特征
        noise=15,  # 添加噪声,模拟真实场景
        coef=True,  # 是否返回生成数据的真实系数
        bias=12.0,  # 偏置值,即 y = coef * x + bias
        random_state=42  # 随机种子,保证结果一致性
    )
    # 转换为 PyTorch 张量
    x = torch.tensor(x, dtype=torch.float32)  # 输入特征张量
    y = torch.tensor(y, dtype=torch.float32).reshape(-1, 1)  # 输出标签张量转换为二维
    return x, y, coef  # 返回输入特征张量、输出标签张量和真实系数


# 数据加载器,用于批量获取数据
def data_loader(x, y, batch_size):
    """
    数据加载器,按批次随机提取训练数据。
    参数:
        x: 输入特征张量
        y: 输出标签张量
        batch_size: 批量大小
    """
    data_len = len(y)  # 数据集长度
    indices = list(range(data_len))  # 创建索引列表
    random.shuffle(indices)  # 随机打乱索引,保证数据随机性
    num_batches = data_len // batch_size  # 计算批次数
    for i in range(num_batches):  # 遍历每个批次
        start = i * batch_size  # 当前批次起始索引
        end = start + batch_size  # 当前批次结束索引
        # 提取当前批次的数据
        batch_x = x[indices[start:end]]  # 当前批次输入
        batch_y = y[indices[start:end]]  # 当前批次输出
        yield batch_x, batch_y  # 返回当前批次数据


# 模型参数初始化
w = torch.tensor(0.5, requires_grad=True, dtype=torch.float32)  # 权重,初始值为 0.5
b = torch.tensor(0.0, requires_grad=True, dtype=torch.float32)  # 偏置,初始值为 0


# 线性假设函数
def linear_regression(x):
    """
    线性回归假设函数。
    参数:
        x: 输入特征张量
    返回:
        模型预测值
    """
    return w * x + b  # 线性模型公式


# 损失函数(均方误差)
def square_loss(y_pred, y_true):
    """
    均方误差损失函数。
    参数:
        y_pred: 模型预测值
        y_true: 数据真实值
    返回:
        每个样本的平方误差
    """
    return ((y_pred - y_true) ** 2).mean()  # 返回均方误差


# 模型训练函数
def train():
    """
    训练线性回归模型。
    """
    # 加载数据集
    x, y, coef = create_dataset()
    # 设置训练参数
    epochs = 50  # 训练轮次
    learning_rate = 0.01  # 学习率
    batch_size = 16  # 每批次的数据大小
    # 使用 PyTorch 内置优化器
    optimizer = torch.optim.SGD([w, b], lr=learning_rate)
    epoch_loss = []  # 用于记录每轮的平均损失
    for epoch in range(epochs):  # 遍历每一轮
        total_loss = 0.0  # 累计损失
        for batch_x, batch_y in data_loader(x, y, batch_size):  # 遍历每个批次
            # 使用假设函数计算预测值
            y_pred = linear_regression(batch_x)
            # 计算损失
            loss = square_loss(y_pred, batch_y)  # 当前批次的平均损失
            total_loss += loss.item()  # 累加总损失
            # 梯度清零
            optimizer.zero_grad()
            # 反向传播计算梯度
            loss.backward()
            # 使用随机梯度下降更新参数
            optimizer.step()
        # 记录当前轮次的平均损失
        epoch_loss.append(total_loss / len(y))
        print(f"轮次 {epoch + 1}, 平均损失: {epoch_loss[-1]:.4f}")  # 打印损失
    # 可视化训练结果
    plot_results(x, y, coef, epoch_loss)


# 可视化训练结果
def plot_results(x, y, coef, epoch_loss):
    """
    绘制训练结果,包括拟合直线和损失变化曲线。
    参数:
        x: 输入特征张量
        y: 输出标签张量
        coef: 数据生成时的真实权重
        epoch_loss: 每轮的平均损失
    """
    # 绘制训练数据点和拟合直线
    plt.scatter(x.numpy(), y.numpy(), label='数据点', alpha=0.7)  # 数据点
    x_line = torch.linspace(x.min(), x.max(), 100).unsqueeze(1)  # 连续 x 值
    y_pred = linear_regression(x_line).detach().numpy()  # 模型预测值
    coef_tensor = torch.tensor(coef, dtype=torch.float32)  # 将 coef 转换为 PyTorch 张量
    y_true = coef_tensor * x_line + 12.0  # 真实直线(生成数据时的公式)
    plt.plot(x_line.numpy(), y_pred, label='拟合直线', color='red')  # 拟合直线
    plt.plot(x_line.numpy(), y_true.numpy(), label='真实直线', color='green')  # 真实直线
    plt.legend()
    plt.grid()
    plt.title('线性回归拟合')
    plt.xlabel('特征值 X')
    plt.ylabel('标签值 Y')
    plt.savefig("fit.png")  # bench: was plt.show()
    plt.close()

    # 绘制损失变化曲线
    plt.plot(range(len(epoch_loss)), epoch_loss)
    plt.title('损失变化曲线')
    plt.xlabel('轮次')
    plt.ylabel('损失')
    plt.grid()
    plt.savefig("loss.png")  # bench: was plt.show()
    plt.close()


# 调用训练函数
if __name__ == "__main__":
    train()
