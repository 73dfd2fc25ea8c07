"""A minimal aiogram 3 bot doing the conversation of benches/inbound.rs: the catalog
(section -> course card, edited in place) and the enrollment application form (10 questions,
validated, a summary, confirmation). State in aiogram's MemoryStorage, no database: the
baseline uchbot is compared with. BOT_TOKEN and BOT_API_URL come from the environment."""
import asyncio
import os
import re

from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

SECTIONS = {
    "Повышение квалификации": [
        ("Организация образовательного процесса в соответствии с ФГОС", 72, "4 900 ₽"),
        ("Оказание первой помощи в образовательной организации", 16, "1 900 ₽"),
    ],
    "Профессиональная переподготовка": [("Педагог дополнительного образования", 256, "14 900 ₽")],
}
QUESTIONS = [
    ("surname", "Ваша фамилия — как в паспорте.", None),
    ("name", "Ваше имя.", None),
    ("patronymic", "Ваше отчество. Если отчества нет, нажмите кнопку.", None),
    ("birth_date", "Дата рождения в формате ДД.ММ.ГГГГ.", r"^\d\d\.\d\d\.\d{4}$"),
    ("snils", "Номер СНИЛС — 11 цифр.", None),
    ("phone", "Телефон для связи.", None),
    ("email", "Электронная почта для документов по курсу.", ["Оставить: адрес из профиля"]),
    ("education", "Ваш уровень образования:", ["Высшее", "Среднее профессиональное"]),
    ("diploma_name", "ФИО в документе об образовании совпадает с текущими?", ["Совпадает с текущими ФИО"]),
    ("address", "Почтовый адрес с индексом.", r"^\d{6},"),
]


class Form(StatesGroup):
    answering = State()


def keyboard(rows):
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d)] for t, d in rows]
    )


def snils_ok(text):
    digits = re.sub(r"\D", "", text)
    if len(digits) != 11:
        return False
    total = sum(int(d) * (9 - i) for i, d in enumerate(digits[:9]))
    check = total % 101 % 100
    return check == int(digits[9:])


async def ask(message: Message, state: FSMContext, index: int):
    key, text, rule = QUESTIONS[index]
    await state.update_data(index=index)
    markup = keyboard([(b, f"ans:{b}") for b in rule]) if isinstance(rule, list) else None
    await message.answer(f"Вопрос {index + 1} из {len(QUESTIONS)}\n{text}", reply_markup=markup)


async def store(message: Message, state: FSMContext, value: str):
    data = await state.get_data()
    index = data.get("index", 0)
    key, _, rule = QUESTIONS[index]
    if isinstance(rule, str) and not re.match(rule, value):
        await message.answer("Не получилось разобрать ответ, попробуйте ещё раз.")
        return
    if key == "snils" and not snils_ok(value):
        await message.answer("Номер СНИЛС не сходится, проверьте его.")
        return
    await state.update_data(**{key: value})
    if index + 1 < len(QUESTIONS):
        await ask(message, state, index + 1)
        return
    data = await state.get_data()
    lines = "\n".join(f"{k}: {data.get(k, '')}" for k, _, _ in QUESTIONS)
    await message.answer(
        f"Проверьте, пожалуйста, заявление:\n\n{lines}", reply_markup=keyboard([("✅ Всё верно", "ok")])
    )


def build(dp: Dispatcher):
    @dp.message(Command("catalog"))
    async def catalog(message: Message):
        rows = [(f"{s} ({len(c)})", f"sec:{i}") for i, (s, c) in enumerate(SECTIONS.items())]
        await message.answer("Каталог курсов. Выберите раздел:", reply_markup=keyboard(rows))

    @dp.callback_query(F.data.startswith("sec:"))
    async def section(query: CallbackQuery):
        i = int(query.data[4:])
        name, courses = list(SECTIONS.items())[i]
        rows = [(f"{t} · {h} часа", f"course:{i}:{j}") for j, (t, h, _) in enumerate(courses)]
        await query.message.edit_text(name, reply_markup=keyboard(rows))
        await query.answer()

    @dp.callback_query(F.data.startswith("course:"))
    async def course(query: CallbackQuery):
        _, i, j = query.data.split(":")
        title, hours, price = list(SECTIONS.values())[int(i)][int(j)]
        await query.message.edit_text(
            f"{title}\n{hours} часа, {price}", reply_markup=keyboard([("Записаться", "enroll")])
        )
        await query.answer()

    @dp.message(Command("status"))
    async def status(message: Message):
        await message.answer(
            "Ваши курсы\n\nОплачено. Следующий шаг — заявление на зачисление.",
            reply_markup=keyboard([("📝 Заполнить заявление", "form")]),
        )

    @dp.callback_query(F.data == "form")
    async def form(query: CallbackQuery, state: FSMContext):
        await state.set_state(Form.answering)
        await ask(query.message, state, 0)
        await query.answer()

    @dp.callback_query(Form.answering, F.data.startswith("ans:"))
    async def button_answer(query: CallbackQuery, state: FSMContext):
        await store(query.message, state, query.data[4:])
        await query.answer()

    @dp.message(Form.answering, F.text)
    async def text_answer(message: Message, state: FSMContext):
        await store(message, state, message.text)

    @dp.callback_query(F.data == "ok")
    async def confirm(query: CallbackQuery, state: FSMContext):
        await state.clear()
        await query.message.answer("✅ Заявление сохранено. Пришлите, пожалуйста, скан или фото паспорта.")
        await query.answer()


async def main():
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["BOT_API_URL"]))
    bot = Bot(os.environ["BOT_TOKEN"], session=session)
    dp = Dispatcher()
    build(dp)
    await dp.start_polling(bot, handle_signals=True)


if __name__ == "__main__":
    asyncio.run(main())
